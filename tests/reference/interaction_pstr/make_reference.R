# Independent reference numbers for agglomera.interaction.pstr on the Hansen (1999) data.
# R PSTR itself is not available here; this script uses plm (within estimator), sandwich-type
# cluster covariance from plm::vcovHC (Arellano, HC0) and plain lm() auxiliary regressions on
# explicitly demeaned data to compute the linear fixed-effects fit and the LM linearity tests.
# Run from the repository root: Rscript tests/reference/interaction_pstr/make_reference.R
suppressPackageStartupMessages(library(plm))
here <- "tests/reference/interaction_pstr"
d <- read.csv(file.path(here, "Hansen99_PSTR.csv"))
d <- d[order(d$cusip, d$year), ]
pd <- pdata.frame(d, index = c("cusip", "year"))
dt <- sprintf("dt_%d", 75:87)
xk <- c("vala", "debta", "cfa", "sales")
f0 <- as.formula(paste("inva ~", paste(c(dt, xk), collapse = " + ")))
fe <- plm(f0, data = pd, model = "within")
V <- vcovHC(fe, method = "arellano", type = "HC0", cluster = "group")
out <- data.frame(quantity = paste0("linear_beta_", names(coef(fe))), value = unname(coef(fe)))
out <- rbind(out, data.frame(quantity = paste0("linear_se_", names(coef(fe))), value = sqrt(diag(V))))
e0 <- residuals(fe)
NT <- nrow(d); N <- length(unique(d$cusip)); k <- length(c(dt, xk))
out <- rbind(out, data.frame(quantity = "linear_sigma_ssr_over_NT", value = sqrt(sum(e0^2) / NT)))
# demean by firm
dm <- function(v) v - ave(v, d$cusip)
q <- d$vala
Y <- dm(d$inva)
X <- sapply(c(dt, xk), function(v) dm(d[[v]]))
for (m in 1:3) {
  W <- do.call(cbind, lapply(1:m, function(j) sapply(xk, function(v) dm(d[[v]] * q^j))))
  ssr0 <- sum(residuals(lm(Y ~ X - 1))^2)
  ssr1 <- sum(residuals(lm(Y ~ X + W - 1))^2)
  r <- ncol(W)
  lmx <- NT * (ssr0 - ssr1) / ssr0
  lmf <- lmx * (NT - N - k - r) / (NT * r)
  # cluster-robust LM: partial X out of W, s = W~'e, meat = sum_i w_i w_i'
  e <- residuals(lm(Y ~ X - 1))
  Wt <- residuals(lm(W ~ X - 1))
  s <- crossprod(Wt, e)
  Si <- rowsum(Wt * e, d$cusip)
  hac <- drop(t(s) %*% solve(crossprod(Si), s))
  out <- rbind(out, data.frame(
    quantity = paste0(c("lm_x_m", "lm_f_m", "lm_hac_x_m", "lm_hac_f_m"), m),
    value = c(lmx, lmf, hac, hac * (NT - N - k - r) / (NT * r))))
  # sequence test of order m: restricted model has the terms of order < m
  if (m > 1) {
    Wl <- W[, 1:((m - 1) * length(xk)), drop = FALSE]
    Wm <- W[, ((m - 1) * length(xk) + 1):(m * length(xk)), drop = FALSE]
    B <- cbind(X, Wl)
    es <- residuals(lm(Y ~ B - 1))
    s0 <- sum(es^2)
    s1 <- sum(residuals(lm(Y ~ B + Wm - 1))^2)
    out <- rbind(out, data.frame(quantity = paste0("seq_lm_x_m", m), value = NT * (s0 - s1) / s0))
  }
}
out$value <- formatC(out$value, digits = 15, format = "g")
write.csv(out, file.path(here, "reference_r.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "\nplm", as.character(packageVersion("plm")), "\n")
