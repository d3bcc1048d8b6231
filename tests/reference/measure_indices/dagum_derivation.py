"""Exact (rational) derivation of the Dagum (1997) decomposition for the stored example.

Written from the definitions in Dagum (1997), pair by pair, with fractions.Fraction --
independent of agglomera's vectorised implementation. Run:  python dagum_derivation.py
"""

from fractions import Fraction as F
from itertools import product

groups = {"east": [6, 10], "central": [2, 4, 7], "west": [1, 3]}
y = [v for vals in groups.values() for v in vals]
n = len(y)
mean = F(sum(y), n)

# overall Gini: sum over all ordered pairs |y_i - y_r| / (2 n^2 mean)
G = F(sum(abs(a - b) for a, b in product(y, y)), 2 * n * n) / mean
print("n =", n, " mean =", mean, " G =", G)

p = {g: F(len(v), n) for g, v in groups.items()}
m = {g: F(sum(v), len(v)) for g, v in groups.items()}
s = {g: p[g] * m[g] / mean for g in groups}
Gw = F(0)
for g, v in groups.items():
    gjj = F(sum(abs(a - b) for a, b in product(v, v)), 2 * len(v) ** 2) / m[g]
    print(f"G_{g},{g} = {gjj}  p = {p[g]}  s = {s[g]}")
    Gw += gjj * p[g] * s[g]
names = list(groups)
Gnb = Gt = F(0)
for i in range(len(names)):
    for k in range(i + 1, len(names)):
        j, h = names[i], names[k]
        if m[j] < m[h]:
            j, h = h, j  # j is the group with the larger mean
        pairs = list(product(groups[j], groups[h]))
        gjh = F(sum(abs(a - b) for a, b in pairs), len(pairs)) / (m[j] + m[h])
        d = F(sum(a - b for a, b in pairs if a > b), len(pairs))
        q = F(sum(b - a for a, b in pairs if b > a), len(pairs))
        D = (d - q) / (d + q)
        w = p[j] * s[h] + p[h] * s[j]
        print(f"G_{j},{h} = {gjh}  d = {d}  p = {q}  D = {D}  weight = {w}")
        Gnb += gjh * w * D
        Gt += gjh * w * (1 - D)
print("Gw =", Gw, float(Gw))
print("Gnb =", Gnb, float(Gnb))
print("Gt =", Gt, float(Gt))
print("G =", G, float(G), " Gw+Gnb+Gt =", Gw + Gnb + Gt)
assert Gw + Gnb + Gt == G
