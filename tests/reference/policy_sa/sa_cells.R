# Sun-Abraham saturated regression on mpdta with base R lm() and sandwich::vcovCL.
# Output: cohort x event-time coefficients and CRV1 standard errors with fixest's
# small-sample factor G/(G-1) * (N-1)/(N-K), K = cells + periods (unit effects nested in
# the clusters count one), for never-treated and last-treated (2007) control cohorts.
# Run from the repository root: Rscript tests/reference/policy_sa/sa_cells.R
suppressPackageStartupMessages(library(sandwich))
d <- read.csv("tests/reference/policy/mpdta.csv")
d$g <- d$first.treat
run <- function(d, treated, label) {
  cells <- c()
  for (g in treated) {
    for (t in sort(unique(d$year))) {
      e <- t - g
      if (e == -1) next
      nm <- sprintf("c_%d_%s", g, ifelse(e < 0, paste0("m", -e), as.character(e)))
      d[[nm]] <- as.numeric(d$g == g & d$year == t)
      cells <- c(cells, nm)
    }
  }
  f <- as.formula(paste("lemp ~", paste(cells, collapse = " + "),
                        "+ factor(countyreal) + factor(year)"))
  fit <- lm(f, data = d)
  n <- nrow(d); G <- length(unique(d$countyreal)); T <- length(unique(d$year))
  k <- length(cells) + T
  v0 <- vcovCL(fit, cluster = ~countyreal, type = "HC0", cadjust = FALSE)
  v <- v0[cells, cells] * (G / (G - 1)) * ((n - 1) / (n - k))
  parts <- do.call(rbind, strsplit(sub("^c_", "", cells), "_"))
  rel <- as.integer(sub("^m", "-", parts[, 2]))
  data.frame(control = label, cohort = as.integer(parts[, 1]),
             rel_time = rel, estimate = unname(coef(fit)[cells]),
             se = unname(sqrt(diag(v))))
}
never <- run(d, c(2004, 2006, 2007), "never")
last <- run(subset(d, g != 0 & year < 2007), c(2004, 2006), "last")
out <- rbind(never, last)
write.csv(out, "tests/reference/policy_sa/sa_cells_reference.csv", row.names = FALSE)
print(out, digits = 15)
