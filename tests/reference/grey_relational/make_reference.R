# Reference numbers for agglomera.describe.grey (tests/describe/test_grey.py).
# Deng's grey relational analysis written directly from the definition
# (Deng 1982; Liu, Yang & Forrest 2017, ch. 3), independently of the Python code.
# Run from the repository root: Rscript tests/reference/grey_relational/make_reference.R
dir <- "tests/reference/grey_relational"

normalise <- function(x, how) {
  switch(how,
    initial = x / x[1],
    mean = x / mean(x),
    minmax = (x - min(x)) / (max(x) - min(x)),
    none = x)
}

grey <- function(df, ref, cands, rho = 0.5, how = "initial", extremes = "pooled") {
  x0 <- normalise(df[[ref]], how)
  D <- sapply(cands, function(c) abs(x0 - normalise(df[[c]], how)))
  D <- matrix(D, ncol = length(cands))
  out <- numeric(length(cands))
  for (j in seq_along(cands)) {
    if (extremes == "pooled") { dmin <- min(D); dmax <- max(D) }
    else { dmin <- min(D[, j]); dmax <- max(D[, j]) }
    xi <- (dmin + rho * dmax) / (D[, j] + rho * dmax)
    out[j] <- mean(xi)
  }
  out
}

rows <- list()
add <- function(dataset, group, how, extremes, rho, cands, grades) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = dataset, group = group,
    normalise = how, extremes = extremes, rho = rho, candidate = cands, grade = grades)
}

hand <- read.csv(file.path(dir, "hand_example.csv"))
for (how in c("initial", "mean", "minmax", "none")) {
  for (ex in c("pooled", "per_candidate")) {
    for (rho in c(0.5, 0.3)) {
      add("hand", "", how, ex, rho, c("x1", "x2", "x3"),
          grey(hand, "x0", c("x1", "x2", "x3"), rho, how, ex))
    }
  }
}
pan <- read.csv(file.path(dir, "panel_example.csv"))
cands <- c("rd", "patents", "students", "fdi")
for (city in unique(pan$city)) {
  sub <- pan[pan$city == city, ]
  sub <- sub[order(sub$year), ]
  for (how in c("initial", "mean", "minmax")) {
    add("panel", city, how, "pooled", 0.5, cands, grey(sub, "talent", cands, 0.5, how, "pooled"))
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(dir, "reference.csv"), row.names = FALSE)
cat(R.version.string, "\n")
