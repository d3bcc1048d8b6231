# Reference numbers for agglomera.interaction.granger (Dumitrescu-Hurlin panel Granger test),
# produced with R's plm::pgrangertest.
#
# Run from the repository root:
#   Rscript tests/reference/interaction_granger/make_reference.R
# Writes tests/reference/interaction_granger/reference.csv (15 significant digits).
# R 4.2.2, plm 2.6-2, lmtest (Debian bookworm packages); see PROVENANCE.md.
#
# Data: Grunfeld.csv (plm::Grunfeld; firm, year; 10 firms x 20 years), copied from
# ../shared/validation/.

suppressPackageStartupMessages(library(plm))

here <- "tests/reference/interaction_granger"
grun <- read.csv(file.path(here, "Grunfeld.csv"))
pg <- pdata.frame(grun, index = c("firm", "year"))

fmt <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "NA" else trimws(formatC(x, digits = 15, format = "g"))
rows <- list()
add <- function(formula, order, quantity, unit, value) {
  rows[[length(rows) + 1L]] <<- data.frame(
    dataset = "grunfeld", formula = formula, order = order, quantity = quantity,
    unit = unit, value = fmt(unname(value)), stringsAsFactors = FALSE
  )
}

for (f in c("inv ~ value", "value ~ inv")) {
  fo <- as.formula(f)
  for (k in 1:3) {
    wb <- pgrangertest(fo, data = pg, order = k, test = "Wbar")
    zb <- pgrangertest(fo, data = pg, order = k, test = "Zbar")
    zt <- pgrangertest(fo, data = pg, order = k, test = "Ztilde")
    add(f, k, "wbar", "", wb$statistic)
    add(f, k, "zbar", "", zb$statistic)
    add(f, k, "zbar_pvalue", "", zb$p.value)
    add(f, k, "ztilde", "", zt$statistic)
    add(f, k, "ztilde_pvalue", "", zt$p.value)
    ind <- zt$indgranger
    for (i in seq_len(nrow(ind))) {
      add(f, k, "unit_wald", as.character(ind[i, 1]), ind[i, "Chisq"])
      add(f, k, "unit_pvalue", as.character(ind[i, 1]), ind[i, "p-value"])
    }
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE)
cat("wrote", nrow(out), "rows\n")
