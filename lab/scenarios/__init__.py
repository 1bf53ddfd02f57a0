"""The lab's scenarios, one module each: run(lab, ...) returns a
scenario.Result (table, SVG timeline, data for tests); main() is the
command line of `anydns-lab scenario NAME` and of the module run alone."""
