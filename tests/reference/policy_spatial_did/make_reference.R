# Reference numbers for agglomera.policy.spatial_did (tests/policy/test_spatial_did.py).
# Exposure classification written independently in base R (haversine distances between
# unit coordinates, band [0, 150] km inclusive, onset = first treatment year of the
# earliest-treated unit in the band, never-treated units only), then the TWFE regression
# y ~ D + S + unit dummies + year dummies with lm, and CRV1 standard errors by unit with
# G/(G-1) * (N-1)/(N-K), K = slopes + #years (unit effects nested in the clusters;
# fixest's default fixef.K = "nested").
# Run from the repository root: Rscript tests/reference/policy_spatial_did/make_reference.R
dir <- "tests/reference/policy_spatial_did"
R <- 6371.0088
rad <- function(d) d * pi / 180
p <- read.csv(file.path(dir, "panel.csv"), colClasses = c(adcode = "character"))
xy <- read.csv(file.path(dir, "coords.csv"), colClasses = c(adcode = "character"))
units <- xy$adcode
g <- tapply(p$cohort, p$adcode, max)[units]
hav <- function(lon1, lat1, lon2, lat2) {
  h <- sin(rad(lat2 - lat1) / 2)^2 + cos(rad(lat1)) * cos(rad(lat2)) * sin(rad(lon2 - lon1) / 2)^2
  2 * R * asin(sqrt(pmin(1, h)))
}
tr <- which(g > 0)
status <- ifelse(g > 0, "treated", "far")
onset <- rep(0L, length(units))
for (i in which(g == 0)) {
  dd <- hav(xy$lon[i], xy$lat[i], xy$lon[tr], xy$lat[tr])
  inb <- dd >= 0 & dd <= 150
  if (any(inb)) { status[i] <- "exposed"; onset[i] <- min(g[tr][inb]) }
}
names(status) <- units; names(onset) <- units
p$D <- as.numeric(p$cohort > 0 & p$year >= p$cohort)
p$S <- as.numeric(status[p$adcode] == "exposed" & p$year >= onset[p$adcode])
fit <- lm(talent_lq ~ D + S + factor(adcode) + factor(year), data = p)
X <- cbind(resid(lm(D ~ factor(adcode) + factor(year), data = p)),
           resid(lm(S ~ factor(adcode) + factor(year), data = p)))
e <- resid(fit); N <- length(e); G <- length(unique(p$adcode)); K <- 2 + length(unique(p$year))
meat <- Reduce(`+`, lapply(split(seq_len(N), p$adcode), function(i) {
  s <- crossprod(X[i, , drop = FALSE], e[i]); s %*% t(s)
}))
B <- solve(crossprod(X))
V <- B %*% meat %*% B * (G / (G - 1)) * ((N - 1) / (N - K))
res <- data.frame(
  quantity = c("direct", "spillover", "n_treated", "n_exposed", "n_far"),
  estimate = c(coef(fit)[c("D", "S")], sum(status == "treated"), sum(status == "exposed"),
               sum(status == "far")),
  se = c(sqrt(diag(V)), NA, NA, NA))
write.csv(res, file.path(dir, "reference.csv"), row.names = FALSE, na = "")
print(res)
cat(R.version.string, "\n")
