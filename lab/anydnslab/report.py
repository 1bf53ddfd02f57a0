"""What the scenarios show: plain text tables, and an SVG timeline written
by hand (no library): one row per client, one coloured span per PoP that
answered it, red where queries got no answer, dashed lines where the
scenario did something, a time axis in seconds and a legend.
"""

import html
import os
import statistics

POP_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
               "#8c564b", "#e377c2", "#bcbd22"]
LOST = "#d62728"
OTHER = "#7f7f7f"


def table(headers, rows):
    """A text table: a header, a rule, one line per row, columns padded."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


def ms(seconds):
    return "%d ms" % round(seconds * 1000)


class Series:
    """One prober's results: samples (t, pop, rtt_ms) in send order, t in
    seconds from the start of the scenario, pop None for a lost query."""

    def __init__(self, label, samples, interval):
        self.label = label
        self.samples = sorted(samples)
        self.interval = interval

    def window(self, t0=None, t1=None):
        return [s for s in self.samples if (t0 is None or s[0] >= t0) and (t1 is None or s[0] < t1)]

    def lost(self, t0=None, t1=None):
        return sum(1 for s in self.window(t0, t1) if s[1] is None)

    def answered_by(self, t0=None, t1=None):
        """{pop: count} of the answers in the window."""
        out = {}
        for s in self.window(t0, t1):
            if s[1] is not None:
                out[s[1]] = out.get(s[1], 0) + 1
        return out

    def main_pop(self, t0=None, t1=None):
        by = self.answered_by(t0, t1)
        return max(by, key=by.get) if by else None

    def rtt(self, t0=None, t1=None):
        r = [s[2] for s in self.window(t0, t1) if s[1] is not None]
        return statistics.median(r) if r else None

    def segments(self):
        """[(t0, t1, pop)]: runs of samples answered by the same PoP (None:
        lost), each sample covering one interval."""
        out = []
        for t, pop, _ in self.samples:
            if out and out[-1][2] == pop and t - out[-1][1] < 2.5 * self.interval:
                out[-1][1] = t + self.interval
            else:
                out.append([t, t + self.interval, pop])
        return [tuple(s) for s in out]

    def outages(self, t0=None, t1=None):
        """[(start, length, lost)]: each run of lost queries sent in
        [t0, t1), from the first lost query's send to the next answered
        one's (or the end of the window)."""
        out = []
        run_start, count = None, 0
        win = self.window(t0, t1)
        for t, pop, _ in win:
            if pop is None:
                if run_start is None:
                    run_start = t
                count += 1
            elif run_start is not None:
                out.append((run_start, t - run_start, count))
                run_start, count = None, 0
        if run_start is not None:
            last = win[-1][0] + self.interval
            out.append((run_start, last - run_start, count))
        return out

    def longest_outage(self, t0=None, t1=None):
        o = self.outages(t0, t1)
        return max(o, key=lambda x: x[1]) if o else (None, 0.0, 0)

    def first_answer_by(self, pops, t0, hold=10):
        """When, from t0 on, the client started being answered by one of
        pops for at least `hold` queries in a row; None if never."""
        start, n = None, 0
        for t, pop, _ in self.window(t0):
            if pop in pops:
                if start is None:
                    start = t
                n += 1
                if n >= hold:
                    return start
            else:
                start, n = None, 0
        return None


def pop_colours(pops):
    return {p: POP_COLOURS[i % len(POP_COLOURS)] for i, p in enumerate(pops)}


def _tick_step(span):
    for step in (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300):
        if span / step <= 10:
            return step
    return 600


def _text(x, y, s, size=13, anchor="start", weight="normal", fill="#222"):
    return ('<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" font-weight="%s" '
            'fill="%s">%s</text>' % (x, y, size, anchor, weight, fill, html.escape(s)))


def timeline(path, title, subtitle, rows, events, pops, t_end, caption):
    """Writes the SVG. rows: [(name, note, Series, summary)]; events:
    [(t, label, is_failure)]; pops: PoP names in colour order."""
    colours = pop_colours(pops)
    longest = max((len(line) for r in rows for line in
                   (r[3] if isinstance(r[3], list) else [r[3]])), default=20)
    left, plot_w, right_w = 170, 720, max(220, int(6.8 * longest) + 30)
    width = left + plot_w + right_w
    row_h, gap = 30, 18
    # Event labels go in lanes above the plot so they never overlap.
    # A label that repeats (a scenario run N times) is written once: the
    # later lines keep their colour and need no words.
    lanes = []
    placed = []
    seen = set()
    for t, label, bad in sorted(events, key=lambda e: e[0]):
        x = left + plot_w * t / t_end
        if label in seen:
            placed.append((x, None, "", bad))
            continue
        seen.add(label)
        w = 7.0 * len(label) + 10
        lane = 0
        while any(l == lane and x < e for l, e in lanes):
            lane += 1
        lanes.append((lane, x + w))
        placed.append((x, lane, label, bad))
    n_lanes = 1 + max((p[1] for p in placed if p[1] is not None), default=0)
    top = 74 + 18 * n_lanes
    bottom = top + len(rows) * (row_h + gap)
    height = bottom + 120
    sx = lambda t: left + plot_w * max(0.0, min(t, t_end)) / t_end

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">'
           % (width, height, width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           _text(16, 28, title, 19, weight="bold"),
           _text(16, 50, subtitle, 13, fill="#555")]
    # Rows: a grey track (no query sent there), then the coloured spans.
    for i, (name, note, series, summary) in enumerate(rows):
        y = top + i * (row_h + gap)
        out.append(_text(left - 12, y + 13, name, 14, "end", "bold"))
        if note:
            out.append(_text(left - 12, y + 28, note, 11, "end", fill="#666"))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#eeeeee"/>'
                   % (left, y, plot_w, row_h))
        for t0, t1, pop in series.segments():
            colour = LOST if pop is None else colours.get(pop, OTHER)
            x0, x1 = sx(t0), sx(t1)
            out.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>%s</title></rect>'
                       % (x0, y, max(x1 - x0, 1.2 if pop is None else 0.5), row_h, colour,
                          html.escape("%s: %s, %.2f s to %.2f s" % (
                              name, pop or "no answer", t0, t1))))
        for j, line in enumerate(summary if isinstance(summary, list) else [summary]):
            out.append(_text(left + plot_w + 14, y + 13 + 14 * j, line, 12,
                             fill=LOST if line.startswith("lost") and not line.startswith("lost 0") else "#222"))
    # Events: a dashed line through every row, the label above.
    for x, lane, label, bad in placed:
        ly = top - 10 - 18 * (n_lanes - 1 - (lane or 0))
        if lane is None:
            ly = top - 10
        colour = LOST if bad else "#333"
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5" '
                   'stroke-dasharray="5,3"/>' % (x, ly + 4, x, bottom - gap + 4, colour))
        if label:
            out.append(_text(x + 4, ly, label, 12, fill=colour, weight="bold"))
    # Time axis.
    ay = bottom - gap + 10
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (left, ay, left + plot_w, ay))
    step = _tick_step(t_end)
    t = 0.0
    while t <= t_end + 1e-9:
        x = sx(t)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>' % (x, ay, x, ay + 5))
        out.append(_text(x, ay + 19, ("%g s" % t), 12, "middle", fill="#333"))
        t += step
    out.append(_text(left + plot_w / 2, ay + 38, "time since the scenario started (seconds)", 12,
                     "middle", fill="#555"))
    # Legend.
    ly = ay + 62
    x = left
    for name, colour in list(colours.items()) + [("no answer (query lost)", LOST)]:
        out.append('<rect x="%d" y="%d" width="14" height="14" fill="%s"/>' % (x, ly - 11, colour))
        label = name if name.startswith("no answer") else "answered by " + name
        out.append(_text(x + 20, ly, label, 13))
        x += 20 + 7.3 * len(label) + 22
    out.append(_text(16, ly + 28, caption, 12, fill="#555"))
    out.append("</svg>")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path
