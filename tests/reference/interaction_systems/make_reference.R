# Reference numbers for agglomera.interaction.simultaneous, produced with R's systemfit.
#
# Run from the repository root:
#   Rscript tests/reference/interaction_systems/make_reference.R
# Writes tests/reference/interaction_systems/reference.csv (15 significant digits).
# Data: Kmenta.csv (systemfit::Kmenta, Kmenta 1986), copied from the validation set.

suppressPackageStartupMessages(library(systemfit))

here <- "tests/reference/interaction_systems"
kmenta <- read.csv(file.path(here, "Kmenta.csv"))
eqs <- list(demand = consump ~ price + income, supply = consump ~ price + farmPrice + trend)
inst <- ~ income + farmPrice + trend

fmt <- function(x) trimws(formatC(x, digits = 15, format = "g"))
rows <- list()
for (method in c("3SLS", "2SLS")) {
  for (rc in c("geomean", "noDfCor")) {
    fit <- systemfit(eqs, method = method, inst = inst, data = kmenta, methodResidCov = rc)
    co <- coef(summary(fit))
    for (name in rownames(co)) {
      parts <- strsplit(name, "_", fixed = TRUE)[[1]]
      var <- sub("^\\(Intercept\\)$", "const", paste(parts[-1], collapse = "_"))
      rows[[length(rows) + 1L]] <- data.frame(
        method = tolower(method), resid_cov = rc, quantity = "coef", equation = parts[1],
        variable = var, estimate = fmt(co[name, "Estimate"]), se = fmt(co[name, "Std. Error"]),
        pvalue = fmt(co[name, "Pr(>|t|)"]), stringsAsFactors = FALSE)
    }
    rcov <- fit$residCov
    for (g in rownames(rcov)) for (h in colnames(rcov)) {
      rows[[length(rows) + 1L]] <- data.frame(
        method = tolower(method), resid_cov = rc, quantity = "resid_cov", equation = g,
        variable = h, estimate = fmt(rcov[g, h]), se = "NA", pvalue = "NA",
        stringsAsFactors = FALSE)
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("R %s, systemfit %s\n", getRversion(), packageVersion("systemfit")))
