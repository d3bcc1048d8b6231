# Reference numbers for agglomera.pretest, produced with R's plm.
#
# Run from the repository root:
#   Rscript tests/reference/pretest/make_reference.R
# Writes tests/reference/pretest/reference.csv (one row per statistic, 15 significant digits).
# R 4.2.2 and plm 2.6-2 from Debian bookworm packages (r-base-core, r-cran-plm); see PROVENANCE.md.
#
# Data: Grunfeld.csv (plm::Grunfeld; firm, year; 10 x 20) and Produc.csv (plm::Produc;
# state, year; 48 x 17), copied from ../shared/validation/.

suppressPackageStartupMessages(library(plm))

here <- "tests/reference/pretest"
grun <- read.csv(file.path(here, "Grunfeld.csv"))
prod <- read.csv(file.path(here, "Produc.csv"))
prod$log_gsp <- log(prod$gsp)
prod$log_pcap <- log(prod$pcap)
prod$log_pc <- log(prod$pc)
prod$log_emp <- log(prod$emp)

pg <- pdata.frame(grun, index = c("firm", "year"))
pp <- pdata.frame(prod, index = c("state", "year"))

fmt <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "NA" else trimws(formatC(x, digits = 15, format = "g"))
rows <- list()
add <- function(dataset, test, variable, options, statistic, pvalue, lags = "", extra = "") {
  rows[[length(rows) + 1L]] <<- data.frame(
    dataset = dataset, test = test, variable = variable, options = options,
    statistic = fmt(unname(statistic)), pvalue = fmt(unname(pvalue)),
    lags = lags, extra = extra, stringsAsFactors = FALSE
  )
}

datasets <- list(
  grunfeld = list(data = pg, vars = c("inv", "value", "capital")),
  produc = list(data = pp, vars = c("log_gsp", "log_pcap", "log_emp", "unemp"))
)

PMAX <- 3L
for (dname in names(datasets)) {
  d <- datasets[[dname]]
  for (v in d$vars) {
    x <- d$data[[v]]
    # ---- Levin-Lin-Chu and Im-Pesaran-Shin (W-tbar), plm defaults otherwise (dfcor = FALSE)
    for (test in c("levinlin", "ips")) {
      exos <- if (test == "levinlin") c("none", "intercept", "trend") else c("intercept", "trend")
      for (exo in exos) {
        for (lagspec in list("AIC", "SIC", 1L)) {
          r <- suppressWarnings(purtest(x, test = test, exo = exo, lags = lagspec, pmax = PMAX))
          used <- vapply(r$idres, function(z) z$lags, 0)
          opt <- sprintf("exo=%s;lags=%s;pmax=%d", exo, as.character(lagspec), PMAX)
          extra <- ""
          if (test == "levinlin") {
            extra <- paste0("sbar=", fmt(mean(sqrt(r$sigma2[, "sigma2LT"] / r$sigma2[, "sigma2ST"]))))
          } else {
            extra <- paste0("tbar=", fmt(mean(vapply(r$idres, function(z) z$trho, 0))))
          }
          add(dname, test, v, opt, r$statistic$statistic, r$statistic$p.value,
              paste(used, collapse = ";"), extra)
        }
      }
    }
    # ---- Pesaran CIPS (cross-sectionally augmented IPS), plm's table-interpolated p-value
    for (type in c("drift", "trend")) {
      for (lg in c(1L, 2L)) {
        for (tr in c(FALSE, TRUE)) {
          r <- suppressWarnings(cipstest(x, lags = lg, type = type, truncated = tr))
          add(dname, "cips", v, sprintf("type=%s;lags=%d;truncated=%s", type, lg, tr),
              r$statistic, r$p.value, as.character(lg))
        }
      }
    }
  }
}

# ---- Pesaran CD, Breusch-Pagan LM, scaled LM (Pesaran 2004), bias-corrected scaled LM
forms <- list(
  grunfeld = list(f = inv ~ value + capital, data = pg),
  produc = list(f = log_gsp ~ log_pcap + log_pc + log_emp + unemp, data = pp)
)
for (dname in names(forms)) {
  fm <- forms[[dname]]
  lhs <- deparse(fm$f)
  for (test in c("cd", "lm", "sclm")) {
    r <- pcdtest(fm$f, data = fm$data, test = test)
    add(dname, "pcd", lhs, sprintf("test=%s;model=NULL", test), r$statistic, r$p.value)
    for (model in c("pooling", "within")) {
      r <- pcdtest(fm$f, data = fm$data, test = test, model = model)
      add(dname, "pcd", lhs, sprintf("test=%s;model=%s", test, model), r$statistic, r$p.value)
    }
  }
  r <- pcdtest(fm$f, data = fm$data, test = "bcsclm", model = "within")
  add(dname, "pcd", lhs, "test=bcsclm;model=within", r$statistic, r$p.value)
  # CD on a single series (pcdtest.pseries): correlations of the raw series
  yv <- all.vars(fm$f)[1L]
  r <- pcdtest(fm$data[[yv]], test = "cd")
  add(dname, "pcd", yv, "test=cd;series", r$statistic, r$p.value)

  # ---- Hausman FE vs RE (Swamy-Arora), plm's default phtest
  r <- phtest(fm$f, data = fm$data)
  fe <- plm(fm$f, data = fm$data, model = "within")
  re <- plm(fm$f, data = fm$data, model = "random")
  add(dname, "hausman", lhs, "method=chisq", r$statistic, r$p.value, as.character(r$parameter),
      paste0("theta=", fmt(re$ercomp$theta), ";b_re1=", fmt(coef(re)[2L]),
             ";b_fe1=", fmt(coef(fe)[1L])))
}

# ---- Unbalanced Grunfeld (firm 1 starts in 1938, firm 2 ends in 1952): IPS and CD use
# each series / each pair's common periods
gu <- grun[!((grun$firm == 1 & grun$year < 1938) | (grun$firm == 2 & grun$year > 1952)), ]
pgu <- pdata.frame(gu, index = c("firm", "year"))
for (exo in c("intercept", "trend")) {
  for (lagspec in list("AIC", 1L)) {
    r <- suppressWarnings(purtest(pgu$inv, test = "ips", exo = exo, lags = lagspec, pmax = PMAX))
    used <- vapply(r$idres, function(z) z$lags, 0)
    add("grunfeld_unbalanced", "ips", "inv", sprintf("exo=%s;lags=%s;pmax=%d", exo, as.character(lagspec), PMAX),
        r$statistic$statistic, r$statistic$p.value, paste(used, collapse = ";"),
        paste0("tbar=", fmt(mean(vapply(r$idres, function(z) z$trho, 0)))))
  }
}
for (test in c("cd", "lm", "sclm")) {
  r <- suppressWarnings(pcdtest(inv ~ value + capital, data = pgu, test = test))
  add("grunfeld_unbalanced", "pcd", "inv ~ value + capital", sprintf("test=%s;model=NULL", test), r$statistic, r$p.value)
  for (model in c("pooling", "within")) {
    r <- suppressWarnings(pcdtest(inv ~ value + capital, data = pgu, test = test, model = model))
    add("grunfeld_unbalanced", "pcd", "inv ~ value + capital", sprintf("test=%s;model=%s", test, model), r$statistic, r$p.value)
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE)
cat("wrote", nrow(out), "rows\n")
