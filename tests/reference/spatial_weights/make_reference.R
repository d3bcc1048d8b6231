# Reference numbers for agglomera.spatial (weights, autocorrelation, hot spots).
# Run from the repository root: Rscript tests/reference/spatial_weights/make_reference.R
# Inputs are written by make_data.py; outputs are the *_ref.csv files of this folder.
suppressPackageStartupMessages({
  library(sf)
  library(spdep)
  library(s2)
})
dir <- "tests/reference/spatial_weights"
fmt <- function(x) formatC(x, digits = 15, format = "g")
R_KM <- 6371.0088  # the sphere radius used by agglomera (IUGG mean radius)

edges <- function(nb, ids, case) {
  out <- do.call(rbind, lapply(seq_along(nb), function(i) {
    j <- nb[[i]]
    j <- j[j > 0]
    if (length(j) == 0) return(NULL)
    data.frame(case = case, from = ids[i], to = ids[j])
  }))
  out
}
mat_long <- function(lw, ids, case) {
  m <- listw2mat(lw)
  nz <- which(m != 0, arr.ind = TRUE)
  data.frame(case = case, from = ids[nz[, 1]], to = ids[nz[, 2]], weight = fmt(m[nz]))
}

# ---------------------------------------------------------------- cities (lon/lat)
cities <- read.csv(file.path(dir, "cities_case.csv"), colClasses = c(adcode = "character"))
xy <- as.matrix(cities[, c("lon", "lat")])
ids <- cities$adcode
# Neighbour search on the sphere with s2 (sf points, sf_use_s2() is TRUE): spdep's
# matrix longlat = TRUE path measures on the WGS84 ellipsoid instead, which moves
# near-threshold pairs; agglomera uses a sphere.
pts_sf <- st_as_sf(cities, coords = c("lon", "lat"), crs = 4326)
knn4 <- knn2nb(knearneigh(pts_sf, k = 4))
nb800 <- dnearneigh(pts_sf, 0, 800)
pts <- s2_lnglat(cities$lon, cities$lat)
dist_km <- function(nb) lapply(seq_along(nb), function(i) {
  as.numeric(s2_distance(pts[i], pts[nb[[i]]], radius = R_KM * 1000)) / 1000
})
d800 <- dist_km(nb800)
idw800 <- nb2listw(nb800, glist = lapply(d800, function(d) 1 / d), style = "W")
idw800b <- nb2listw(nb800, glist = lapply(d800, function(d) 1 / d^2), style = "B")
knn4w <- nb2listw(knn4, style = "W")
write.csv(rbind(edges(knn4, ids, "knn4"), edges(nb800, ids, "dnear800")),
          file.path(dir, "cities_nb_ref.csv"), row.names = FALSE)
write.csv(rbind(mat_long(idw800, ids, "idw800_W"), mat_long(idw800b, ids, "idw800_p2_B")),
          file.path(dir, "cities_weights_ref.csv"), row.names = FALSE)

# ---------------------------------------------------------------- global tests
global <- list()
add_global <- function(case, var, lw, y) {
  for (rnd in c(FALSE, TRUE)) {
    m <- moran.test(y, lw, randomisation = rnd, alternative = "two.sided")
    g <- geary.test(y, lw, randomisation = rnd, alternative = "two.sided")
    assumption <- if (rnd) "randomisation" else "normality"
    global[[length(global) + 1]] <<- data.frame(
      case = case, var = var, statistic = c("moran", "geary"), assumption = assumption,
      value = fmt(c(m$estimate[1], g$estimate[1])),
      expectation = fmt(c(m$estimate[2], g$estimate[2])),
      variance = fmt(c(m$estimate[3], g$estimate[3])),
      z = fmt(c(m$statistic, -g$statistic)),  # spdep's Geary z is (E[C] - C)/sd
      p = fmt(c(m$p.value, g$p.value))
    )
  }
}
add_global("cities_knn4", "talent_lq", knn4w, cities$talent_lq)
add_global("cities_idw800", "talent_lq", idw800, cities$talent_lq)

# ---------------------------------------------------------------- Columbus (queen)
col <- st_as_sf(read.csv(file.path(dir, "columbus.csv")), wkt = "geometry")
col_nb <- poly2nb(col, queen = TRUE)
col_w <- nb2listw(col_nb, style = "W")
add_global("columbus_queen", "CRIME", col_w, col$CRIME)
add_global("columbus_queen", "HOVAL", col_w, col$HOVAL)
write.csv(do.call(rbind, global), file.path(dir, "global_ref.csv"), row.names = FALSE)
write.csv(edges(col_nb, col$POLYID, "columbus_queen"), file.path(dir, "columbus_nb_ref.csv"),
          row.names = FALSE)
# weights files written by spdep, read back by agglomera.spatial.weights.read
write.nb.gal(col_nb, file.path(dir, "columbus_queen.gal"), ind = col$POLYID)
idw_sn <- listw2sn(nb2listw(nb800, glist = lapply(d800, function(d) 1 / d), style = "B"))
attr(idw_sn, "region.id") <- ids
write.sn2gwt(idw_sn, file.path(dir, "cities_idw800.gwt"))

# ---------------------------------------------------------------- local G / G*
local <- rbind(
  data.frame(case = "columbus_queen", star = FALSE, id = col$POLYID,
             z = fmt(as.numeric(localG(col$CRIME, col_w)))),
  data.frame(case = "columbus_queen", star = TRUE, id = col$POLYID,
             z = fmt(as.numeric(localG(col$CRIME, nb2listw(include.self(col_nb), style = "B"))))),
  data.frame(case = "cities_knn4", star = TRUE, id = ids,
             z = fmt(as.numeric(localG(cities$talent_lq,
                                       nb2listw(include.self(knn4), style = "B"))))),
  data.frame(case = "cities_idw800", star = FALSE, id = ids,
             z = fmt(as.numeric(localG(cities$talent_lq, idw800))))
)
write.csv(local, file.path(dir, "localg_ref.csv"), row.names = FALSE)

# ---------------------------------------------------------------- Zhejiang contiguity
zj <- st_as_sf(read.csv(file.path(dir, "zhejiang_boundaries.csv"),
                        colClasses = c(adcode = "character")), wkt = "geometry", crs = 4326)
sf_use_s2(FALSE)  # planar predicates on lon/lat, as libpysal
zq <- poly2nb(zj, queen = TRUE)
zr <- poly2nb(zj, queen = FALSE)
write.csv(rbind(edges(zq, zj$adcode, "queen"), edges(zr, zj$adcode, "rook")),
          file.path(dir, "zhejiang_nb_ref.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("spdep", packageVersion("spdep")),
             paste("sf", packageVersion("sf")), paste("s2", packageVersion("s2"))),
           file.path(dir, "versions.txt"))
