# Reference numbers for agglomera.interaction.panel_var (one-step, first differences).
# One-step GMM of a panel VAR is equation-by-equation Arellano-Bond GMM with the same
# instruments, so each equation is reproduced by plm::pgmm (one-step, robust SEs).
# Data: Dahlberg.csv (balanced) and "dahlberg_gaps" = Dahlberg without the rows
# (id 114, 1983), (id 115, 1986-1987), (id 120, 1979) (built here and in the tests).
# Run from the repository root: Rscript tests/reference/interaction_pvar/make_reference.R
suppressPackageStartupMessages(library(plm))
d <- read.csv("tests/reference/interaction_pvar/Dahlberg.csv")
drop <- (d$id == 114 & d$year == 1983) | (d$id == 115 & d$year >= 1986) |
  (d$id == 120 & d$year == 1979)
datasets <- list(dahlberg = d, dahlberg_gaps = d[!drop, ])
vars <- c("expenditures", "revenues", "grants")
rows <- list()
for (ds in names(datasets)) {
  pd <- pdata.frame(datasets[[ds]], index = c("id", "year"))
  for (v in vars) {
    f <- as.formula(paste0(v, " ~ lag(expenditures, 1) + lag(revenues, 1) + lag(grants, 1) | ",
                           "lag(expenditures, 2:99) + lag(revenues, 2:99) + lag(grants, 2:99)"))
    m <- suppressWarnings(pgmm(f, data = pd, effect = "individual", model = "onestep",
                               transformation = "d"))
    b <- coef(m)
    se <- sqrt(diag(vcovHC(m)))
    for (k in seq_along(b)) {
      rows[[length(rows) + 1]] <- data.frame(
        dataset = ds, equation = v, regressor = paste0("L1.", vars[k]),
        coef = formatC(b[k], digits = 15, format = "g"),
        se_robust = formatC(se[k], digits = 15, format = "g"),
        n_obs = sum(sapply(m$residuals, function(r) sum(r != 0))))
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/interaction_pvar/pgmm_onestep_fd.csv", row.names = FALSE, quote = TRUE)
print(out)
cat("R", R.version.string, "plm", as.character(packageVersion("plm")), "\n")
