# Reference numbers for agglomera.policy.triple (tests/policy/test_triple.py).
# Base R lm with explicit dummy variables for the three sets of fixed effects
# (city x sector, sector x year, city x year); cluster-robust (CRV1) standard errors by
# city computed by the Frisch-Waugh-Lovell formula with the small-sample factor
# G/(G-1) * (N-1)/(N-K), K = slopes + fixed-effect parameters not nested in the clusters
# (fixest's default fixef.K = "nested": here K = slopes + #(sector x year) cells).
# Run from the repository root: Rscript tests/reference/policy_triple/make_reference.R
dir <- "tests/reference/policy_triple"
d <- read.csv(file.path(dir, "ddd.csv"))
d$high <- as.numeric(d$sector == "high")
d$post <- as.numeric(d$cohort > 0 & d$year >= d$cohort)
d$ddd <- d$post * d$high
d$us <- factor(paste(d$city, d$sector))
d$st <- factor(paste(d$sector, d$year))
d$ut <- factor(paste(d$city, d$year))

crv1 <- function(fit, xt, cl, k_slopes, k_fe) {
  e <- resid(fit)
  N <- length(e); G <- length(unique(cl)); K <- k_slopes + k_fe
  XtX <- crossprod(xt)
  meat <- Reduce(`+`, lapply(split(seq_len(N), cl), function(i) {
    s <- crossprod(xt[i, , drop = FALSE], e[i]); s %*% t(s)
  }))
  V <- solve(XtX) %*% meat %*% solve(XtX)
  V * (G / (G - 1)) * ((N - 1) / (N - K))
}

# static DDD
fit <- lm(y ~ ddd + us + st + ut, data = d)
xt <- as.matrix(resid(lm(ddd ~ us + st + ut, data = d)))
V <- crv1(fit, xt, d$city, 1, nlevels(d$st))
res <- data.frame(term = "ddd", estimate = unname(coef(fit)["ddd"]), se = sqrt(V[1, 1]))

# event-study DDD: relative-time dummies x high, reference -1
d$rel <- ifelse(d$cohort > 0, d$year - d$cohort, NA)
levels_e <- sort(setdiff(unique(d$rel[!is.na(d$rel)]), -1))
names_e <- ifelse(levels_e < 0, paste0("ev_m", -levels_e), paste0("ev_p", levels_e))
for (j in seq_along(levels_e)) d[[names_e[j]]] <- as.numeric(!is.na(d$rel) & d$rel == levels_e[j]) * d$high
f_es <- as.formula(paste("y ~", paste(names_e, collapse = " + "), "+ us + st + ut"))
fit_es <- lm(f_es, data = d)
# FWL for a vector of coefficients: residualise each regressor on the FEs only, then use
# the joint partialled design
xt_fe <- sapply(names_e, function(nm) resid(lm(as.formula(paste(nm, "~ us + st + ut")), data = d)))
V_es <- crv1(fit_es, xt_fe, d$city, length(names_e), nlevels(d$st))
res <- rbind(res, data.frame(term = names_e, estimate = unname(coef(fit_es)[names_e]),
                             se = sqrt(diag(V_es))))
write.csv(res, file.path(dir, "reference.csv"), row.names = FALSE)
print(res)
cat(R.version.string, "\n")
