# Reference numbers for agglomera.interaction.threshold on Hansen's (1999) investment data.
#
# Run from the repository root:
#   Rscript tests/reference/interaction_threshold/make_reference.R
# Writes tests/reference/interaction_threshold/reference.csv (15 significant digits).
#
# Two independent parts:
#  1. a brute-force grid search written here in base R: one least-squares fit (lm.fit) on
#     the within-transformed data for every candidate threshold (every distinct value of
#     lagged debt leaving >= ceiling(trim * N) observations in each regime); sequential
#     estimation as Hansen (1999, Sect. 4): gamma1; gamma2 given gamma1; refined gamma1
#     given gamma2; gamma3 given both (trim 0.01, 0.01, 0.05). Regimes are q <= gamma.
#  2. the fixed-effect regressions at the thresholds found, by plm::plm(model = "within")
#     with plm's covariance estimators.
# R 4.2.2 and plm 2.6-2 (Debian bookworm packages).

suppressPackageStartupMessages({
  library(plm)
  library(sandwich)
})

here <- "tests/reference/interaction_threshold"
raw <- read.csv(file.path(here, "hansen1999_invest.csv"))
names(raw) <- c("i", "q", "cf", "d")
n <- 565
tt <- 15
raw$firm <- rep(seq_len(n), each = tt)
raw$year <- rep(1973:1987, times = n)
# regressors lagged one year, as Hansen (1999): the 1973 row only supplies lags
lagged <- do.call(rbind, lapply(split(raw, raw$firm), function(g) {
  data.frame(firm = g$firm[-1], year = g$year[-1], i = g$i[-1], q1 = g$q[-tt],
             cf1 = g$cf[-tt], d1 = g$d[-tt])
}))
lagged$q1sq <- lagged$q1^2
lagged$q1cu <- lagged$q1^3
lagged$qd1 <- lagged$q1 * lagged$d1
nobs <- nrow(lagged)
tp <- 14

dm <- function(v) v - ave(v, lagged$firm)
yw <- dm(lagged$i)
xw <- sapply(c("q1", "q1sq", "q1cu", "d1", "qd1"), function(v) dm(lagged[[v]]))
cfw <- dm(lagged$cf1)
qv <- lagged$d1
cand <- sort(unique(qv))
cnt <- sapply(cand, function(g) sum(qv <= g))

ssr_at <- function(gammas) {
  cols <- lapply(gammas, function(g) dm(lagged$cf1 * (qv <= g)))
  a <- cbind(xw, cfw, do.call(cbind, cols))
  sum(lm.fit(a, yw)$residuals^2)
}
admissible <- function(fixed, trim) {
  m <- ceiling(trim * nobs)
  fc <- sort(vapply(fixed, function(g) sum(qv <= g), numeric(1)))
  ok <- sapply(cnt, function(c) {
    b <- sort(c(0, fc, c, nobs))
    all(diff(b) >= m) && !(c %in% fc)
  })
  cand[ok]
}
stage <- function(fixed, trim) {
  grid <- admissible(fixed, trim)
  s <- vapply(grid, function(g) ssr_at(c(fixed, g)), numeric(1))
  list(grid = grid, ssr = s, gamma = grid[which.min(s)], min = min(s))
}

s0 <- ssr_at(numeric(0))
st1 <- stage(numeric(0), 0.01)
st2 <- stage(st1$gamma, 0.01)
st2r <- stage(st2$gamma, 0.01)
st3 <- stage(c(st2r$gamma, st2$gamma), 0.05)

crit <- -2 * log(1 - sqrt(0.95))
ci <- function(st, divisor) {
  lr <- (st$ssr - st$min) / (st$min / divisor)
  range(st$grid[lr <= crit])
}

fmt <- function(x) trimws(formatC(x, digits = 15, format = "g"))
rows <- list()
add <- function(quantity, term, value) {
  rows[[length(rows) + 1L]] <<- data.frame(quantity = quantity, term = term,
                                           value = fmt(value), stringsAsFactors = FALSE)
}
add("threshold", "single_gamma1", st1$gamma)
add("threshold", "double_gamma1_refined", st2r$gamma)
add("threshold", "double_gamma2", st2$gamma)
add("threshold", "triple_gamma3", st3$gamma)
add("ssr", "S0", s0)
add("ssr", "S1", st1$min)
add("ssr", "S2_stage", st2$min)
add("ssr", "S2_refined", st2r$min)
add("ssr", "S3", st3$min)
for (dv in c("within", "nobs")) {
  divisor <- if (dv == "within") n * (tp - 1) else nobs
  add(paste0("F_", dv), "single", (s0 - st1$min) / (st1$min / divisor))
  add(paste0("F_", dv), "double", (st1$min - st2$min) / (st2$min / divisor))
  add(paste0("F_", dv), "triple", (st2r$min - st3$min) / (st3$min / divisor))
  for (nm in c("single_gamma1", "double_gamma1_refined", "double_gamma2", "triple_gamma3")) {
    st <- switch(nm, single_gamma1 = st1, double_gamma1_refined = st2r,
                 double_gamma2 = st2, triple_gamma3 = st3)
    r <- ci(st, divisor)
    add(paste0("ci_lower_", dv), nm, r[1])
    add(paste0("ci_upper_", dv), nm, r[2])
  }
}

# fixed-effect regressions at the thresholds (plm)
pd <- pdata.frame(lagged, index = c("firm", "year"))
regime_fit <- function(gammas, label) {
  b <- c(-Inf, sort(gammas), Inf)
  for (j in seq_len(length(b) - 1)) {
    pd[[paste0("cf1_r", j)]] <- lagged$cf1 * (lagged$d1 > b[j] & lagged$d1 <= b[j + 1])
  }
  f <- as.formula(paste("i ~ q1 + q1sq + q1cu + d1 + qd1 +",
                        paste0("cf1_r", seq_len(length(b) - 1), collapse = " + ")))
  fit <- plm(f, data = pd, model = "within")
  co <- coef(fit)
  se_h <- sqrt(diag(vcov(fit)))
  se_w <- sqrt(diag(vcovHC(fit, method = "white1", type = "HC0")))
  se_c <- sqrt(diag(vcovHC(fit, method = "arellano", type = "sss")))
  for (v in names(co)) {
    add(paste0(label, "_coef"), v, co[[v]])
    add(paste0(label, "_se_homoskedastic"), v, se_h[[v]])
    add(paste0(label, "_se_white"), v, se_w[[v]])
    add(paste0(label, "_se_cluster"), v, se_c[[v]])
  }
}
regime_fit(st1$gamma, "single")
regime_fit(c(st2r$gamma, st2$gamma), "double")

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("R %s, plm %s\n", getRversion(), packageVersion("plm")))
