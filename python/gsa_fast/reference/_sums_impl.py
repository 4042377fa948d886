"""Scalar float64 reference for Σ_{k=a}^{b} k^-s (log k)^j (spec §3): clear, not fast.

Short ranges are summed exactly with math.fsum; long ranges use an exact fsum head and the
Euler–Maclaurin tail of spec §3.3, written out term by term.
"""
from __future__ import annotations

import math

HEAD = 64
DIRECT_LIMIT = 4 * HEAD
BERNOULLI_OVER_FACTORIAL = (1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0)  # B_2/2!, B_4/4!, B_6/6!


def _direct(a: int, b: int, s: float, j: int) -> float:
    return math.fsum(k ** (-s) * math.log(k) ** j for k in range(a, b + 1))


def _integral_parts(t: float, D: float):
    """E_i(t, D) = ∫_0^D v^i e^{tv} dv, i = 0, 1, 2."""
    x = t * D
    if abs(x) < 1.0:
        E = []
        for i in range(3):
            total, term, n = 0.0, 1.0, 0
            while True:
                total += term / (n + i + 1)
                n += 1
                term *= x / n
                if abs(term) < 1e-19 or n > 60:
                    break
            E.append(total * D ** (i + 1))
        return E
    e0 = math.expm1(x) / t
    e1 = (D * math.exp(x) - e0) / t
    e2 = (D * D * math.exp(x) - 2.0 * e1) / t
    return [e0, e1, e2]


def _odd_derivative(x: float, s: float, j: int, order: int) -> float:
    """d^order/dx^order of x^-s (log x)^j, via the polynomial-in-log recurrence."""
    c = [0.0, 0.0, 0.0]
    c[j] = 1.0
    t = s
    for _ in range(order):
        c = [(i + 1) * c[i + 1] - t * c[i] if i < 2 else -t * c[i] for i in range(3)]
        t += 1.0
    u = math.log(x)
    return x ** (-t) * (c[0] + c[1] * u + c[2] * u * u)


def _euler_maclaurin(a: int, b: int, s: float, j: int) -> float:
    la = math.log(a)
    if s * la > 745.2:  # every term underflows
        return 0.0
    D = math.log1p((b - a) / a)  # not log b − log a: exact for short far-out ranges
    lb = la + D
    t = 1.0 - s
    E = _integral_parts(t, D)
    integral = math.exp(t * la) * sum(math.comb(j, i) * la ** (j - i) * E[i] for i in range(j + 1))
    ends = 0.5 * (a ** (-s) * la**j + b ** (-s) * lb**j)
    corr = sum(
        c * (_odd_derivative(b, s, j, 2 * i + 1) - _odd_derivative(a, s, j, 2 * i + 1))
        for i, c in enumerate(BERNOULLI_OVER_FACTORIAL)
    )
    return integral + ends + corr


def range_sum(a: int, b: int, s: float, j: int) -> float:
    a = max(int(a), 1)
    b = int(b)
    if b < a:
        return 0.0
    if b - a < DIRECT_LIMIT:
        return _direct(a, b, float(s), j)
    start = max(a, HEAD)
    head_end = start + HEAD - 1
    return _direct(a, head_end, float(s), j) + _euler_maclaurin(head_end + 1, b, float(s), j)
