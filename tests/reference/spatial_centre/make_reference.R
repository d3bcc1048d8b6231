# Reference numbers for agglomera.spatial.centre (tests/spatial/test_spatial_centre.py).
# Written directly from the textbook formulas in base R, independently of the Python code:
# spherical weighted mean centre (mean of unit vectors), planar mean of lon/lat,
# haversine step distance, initial great-circle bearing, and the standard deviational
# ellipse (Yuill 1971 closed form, tan(theta) = (A + sqrt(A^2 + C^2)) / C) in a local
# azimuthal equidistant projection centred on the spherical mean centre.
# Run from the repository root: Rscript tests/reference/spatial_centre/make_reference.R
dir <- "tests/reference/spatial_centre"
R <- 6371.0088
rad <- function(d) d * pi / 180
deg <- function(r) r * 180 / pi

xy <- read.csv(file.path(dir, "coords.csv"), colClasses = c(adcode = "character"))
w <- read.csv(file.path(dir, "weights.csv"), colClasses = c(adcode = "character"))
w <- merge(w, xy, by = "adcode")

sphere_centre <- function(lon, lat, wt) {
  X <- cbind(cos(rad(lat)) * cos(rad(lon)), cos(rad(lat)) * sin(rad(lon)), sin(rad(lat)))
  v <- colSums(X * wt) / sum(wt)
  c(lon = deg(atan2(v[2], v[1])), lat = deg(atan2(v[3], sqrt(v[1]^2 + v[2]^2))))
}
haversine <- function(lon1, lat1, lon2, lat2) {
  h <- sin(rad(lat2 - lat1) / 2)^2 + cos(rad(lat1)) * cos(rad(lat2)) * sin(rad(lon2 - lon1) / 2)^2
  2 * R * asin(sqrt(h))
}
bearing <- function(lon1, lat1, lon2, lat2) {
  y <- sin(rad(lon2 - lon1)) * cos(rad(lat2))
  x <- cos(rad(lat1)) * sin(rad(lat2)) - sin(rad(lat1)) * cos(rad(lat2)) * cos(rad(lon2 - lon1))
  (deg(atan2(y, x)) + 360) %% 360
}
aeqd <- function(lon, lat, lon0, lat0) {
  p0 <- rad(lat0); p <- rad(lat); dl <- rad(lon - lon0)
  cc <- acos(pmin(1, pmax(-1, sin(p0) * sin(p) + cos(p0) * cos(p) * cos(dl))))
  k <- ifelse(cc > 1e-12, cc / sin(cc), 1)
  cbind(R * k * cos(p) * sin(dl), R * k * (cos(p0) * sin(p) - sin(p0) * cos(p) * cos(dl)))
}
yuill <- function(x, y, wt) {
  xb <- sum(wt * x) / sum(wt); yb <- sum(wt * y) / sum(wt)
  dx <- x - xb; dy <- y - yb
  A <- sum(wt * dx^2) - sum(wt * dy^2); C <- 2 * sum(wt * dx * dy)
  th <- atan((A + sqrt(A^2 + C^2)) / C)          # clockwise from north
  sx <- sqrt(sum(wt * (dx * cos(th) - dy * sin(th))^2) / sum(wt))
  sy <- sqrt(sum(wt * (dx * sin(th) + dy * cos(th))^2) / sum(wt))
  c(xbar = xb, ybar = yb, theta = (deg(th) + 180) %% 180, sigma_x = sx, sigma_y = sy)
}

years <- sort(unique(w$year))
out <- NULL
prev <- NULL
for (yr in years) {
  s <- w[w$year == yr, ]
  cs <- sphere_centre(s$lon, s$lat, s$emp)
  cp <- c(lon = sum(s$emp * s$lon) / sum(s$emp), lat = sum(s$emp * s$lat) / sum(s$emp))
  P <- aeqd(s$lon, s$lat, cs[["lon"]], cs[["lat"]])
  e <- yuill(P[, 1], P[, 2], s$emp)
  row <- data.frame(year = yr, sphere_lon = cs[["lon"]], sphere_lat = cs[["lat"]],
    planar_lon = cp[["lon"]], planar_lat = cp[["lat"]],
    step_km = if (is.null(prev)) NA else haversine(prev[1], prev[2], cs[["lon"]], cs[["lat"]]),
    bearing = if (is.null(prev)) NA else bearing(prev[1], prev[2], cs[["lon"]], cs[["lat"]]),
    ell_theta = e[["theta"]], ell_sigma_x = e[["sigma_x"]], ell_sigma_y = e[["sigma_y"]],
    ell_xbar = e[["xbar"]], ell_ybar = e[["ybar"]])
  out <- rbind(out, row)
  prev <- c(cs[["lon"]], cs[["lat"]])
}
write.csv(out, file.path(dir, "reference.csv"), row.names = FALSE, na = "")

h <- read.csv(file.path(dir, "hand_ellipse.csv"))
e <- yuill(h$x, h$y, h$w)
write.csv(data.frame(t(e)), file.path(dir, "hand_ellipse_reference.csv"), row.names = FALSE)
print(out)
print(e)
cat(R.version.string, "\n")
