# Sourced by scripts/bench and scripts/bench-https.

# median: the median of the numbers on stdin (separated by spaces or newlines), with two
# decimals; the mean of the middle two for an even count.
median() {
  tr ' ' '\n' | grep . | sort -n |
    awk '{v[NR] = $1} END {printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'
}
