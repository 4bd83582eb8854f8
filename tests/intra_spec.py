"""A scalar, sample-by-sample transcription of H.265 §8.4.4.2 used as the oracle of the intra tests.

It follows the standard's text literally (p[x][y] with x the column, loops over samples) and shares no
code with :mod:`dlic_lib.intra.hevc`.
"""

from __future__ import annotations

ANGLES = [32, 26, 21, 17, 13, 9, 5, 2, 0, -2, -5, -9, -13, -17, -21, -26, -32,
          -26, -21, -17, -13, -9, -5, -2, 0, 2, 5, 9, 13, 17, 21, 26, 32]
INV = [-4096, -1638, -910, -630, -482, -390, -315, -256, -315, -390, -482, -630, -910, -1638, -4096]


def spec_predict(top, left, corner, mode, n, available=None, filtering=True, strong=True, boundary=True, bit_depth=8):
    """predSamples as a list of rows ([y][x]) for one block; ``available`` in substitution-scan order."""
    # reference samples p[(x, y)] for x = -1, y = -1..2n-1 and y = -1, x = 0..2n-1
    p = {}
    for y in range(2 * n):
        p[(-1, y)] = int(left[y])
    p[(-1, -1)] = int(corner)
    for x in range(2 * n):
        p[(x, -1)] = int(top[x])
    scan = [(-1, y) for y in range(2 * n - 1, -1, -1)] + [(-1, -1)] + [(x, -1) for x in range(2 * n)]
    # 8.4.4.2.2 substitution
    if available is not None:
        avail = {pos: bool(a) for pos, a in zip(scan, available)}
        if not any(avail.values()):
            for pos in scan:
                p[pos] = 1 << (bit_depth - 1)
        else:
            if not avail[scan[0]]:
                for pos in scan:
                    if avail[pos]:
                        p[scan[0]] = p[pos]
                        break
            for i in range(1, len(scan)):
                if not avail[scan[i]]:
                    p[scan[i]] = p[scan[i - 1]]
    # 8.4.4.2.3 filtering
    if filtering and mode != 1 and n != 4:
        thres = {8: 7, 16: 1, 32: 0}[n]
        if min(abs(mode - 26), abs(mode - 10)) > thres:
            pf = dict(p)
            bi = (strong and n == 32
                  and abs(p[(-1, -1)] + p[(2 * n - 1, -1)] - 2 * p[(n - 1, -1)]) < (1 << (bit_depth - 5))
                  and abs(p[(-1, -1)] + p[(-1, 2 * n - 1)] - 2 * p[(-1, n - 1)]) < (1 << (bit_depth - 5)))
            if bi:
                for y in range(63):
                    pf[(-1, y)] = ((63 - y) * p[(-1, -1)] + (y + 1) * p[(-1, 63)] + 32) >> 6
                for x in range(63):
                    pf[(x, -1)] = ((63 - x) * p[(-1, -1)] + (x + 1) * p[(63, -1)] + 32) >> 6
            else:
                pf[(-1, -1)] = (p[(-1, 0)] + 2 * p[(-1, -1)] + p[(0, -1)] + 2) >> 2
                for y in range(2 * n - 1):
                    pf[(-1, y)] = (p[(-1, y + 1)] + 2 * p[(-1, y)] + p[(-1, y - 1)] + 2) >> 2
                for x in range(2 * n - 1):
                    pf[(x, -1)] = (p[(x - 1, -1)] + 2 * p[(x, -1)] + p[(x + 1, -1)] + 2) >> 2
            p = pf
    log2n = n.bit_length() - 1
    pred = [[0] * n for _ in range(n)]
    clip = lambda v: max(0, min((1 << bit_depth) - 1, v))  # noqa: E731
    if mode == 0:
        for x in range(n):
            for y in range(n):
                pred[y][x] = ((n - 1 - x) * p[(-1, y)] + (x + 1) * p[(n, -1)] + (n - 1 - y) * p[(x, -1)]
                              + (y + 1) * p[(-1, n)] + n) >> (log2n + 1)
        return pred
    if mode == 1:
        dc = (sum(p[(x, -1)] for x in range(n)) + sum(p[(-1, y)] for y in range(n)) + n) >> (log2n + 1)
        for x in range(n):
            for y in range(n):
                pred[y][x] = dc
        if boundary and n < 32:
            pred[0][0] = (p[(-1, 0)] + 2 * dc + p[(0, -1)] + 2) >> 2
            for x in range(1, n):
                pred[0][x] = (p[(x, -1)] + 3 * dc + 2) >> 2
            for y in range(1, n):
                pred[y][0] = (p[(-1, y)] + 3 * dc + 2) >> 2
        return pred
    angle = ANGLES[mode - 2]
    ref = {}
    if mode >= 18:
        for x in range(0, n + 1):
            ref[x] = p[(-1 + x, -1)]
        if angle < 0:
            if (n * angle) >> 5 < -1:
                for x in range((n * angle) >> 5, 0):
                    ref[x] = p[(-1, -1 + ((x * INV[mode - 11] + 128) >> 8))]
        else:
            for x in range(n + 1, 2 * n + 1):
                ref[x] = p[(-1 + x, -1)]
        for x in range(n):
            for y in range(n):
                i_idx = ((y + 1) * angle) >> 5
                i_fact = ((y + 1) * angle) & 31
                if i_fact:
                    pred[y][x] = ((32 - i_fact) * ref[x + i_idx + 1] + i_fact * ref[x + i_idx + 2] + 16) >> 5
                else:
                    pred[y][x] = ref[x + i_idx + 1]
        if mode == 26 and boundary and n < 32:
            for y in range(n):
                pred[y][0] = clip(p[(0, -1)] + ((p[(-1, y)] - p[(-1, -1)]) >> 1))
    else:
        for x in range(0, n + 1):
            ref[x] = p[(-1, -1 + x)]
        if angle < 0:
            if (n * angle) >> 5 < -1:
                for x in range((n * angle) >> 5, 0):
                    ref[x] = p[(-1 + ((x * INV[mode - 11] + 128) >> 8), -1)]
        else:
            for x in range(n + 1, 2 * n + 1):
                ref[x] = p[(-1, -1 + x)]
        for x in range(n):
            for y in range(n):
                i_idx = ((x + 1) * angle) >> 5
                i_fact = ((x + 1) * angle) & 31
                if i_fact:
                    pred[y][x] = ((32 - i_fact) * ref[y + i_idx + 1] + i_fact * ref[y + i_idx + 2] + 16) >> 5
                else:
                    pred[y][x] = ref[y + i_idx + 1]
        if mode == 10 and boundary and n < 32:
            for x in range(n):
                pred[0][x] = clip(p[(-1, 0)] + ((p[(x, -1)] - p[(-1, -1)]) >> 1))
    return pred
