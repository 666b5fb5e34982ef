"""The end-of-epoch table that ``GradientMonitor(verbose=1)`` prints (no TensorFlow import)."""

from __future__ import annotations

import math


def _number(value, style) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    return format(value + 0.0, style)  # no "-0.00"


def merge_paths(*orders) -> list:
    """The union of several ordered path lists, each path where it first appears."""
    seen, merged = set(), []
    for order in orders:
        for path in order:
            if path not in seen:
                seen.add(path)
                merged.append(path)
    return merged


def epoch_table(
    epoch: int, step, paths, norms: dict, ratios: dict, dead: dict, flagged: dict, global_norm
) -> str:
    """One compact table: a row per layer, its last logged values, and the rule it broke.

    Args:
        epoch: The epoch (0-based, printed 1-based as Keras does).
        step: The last logged step, or ``None`` if none was logged.
        paths: The layer paths, in the order of the rows.
        norms, ratios, dead: ``{path: value}``: gradient norm, update ratio,
            dead fraction (a path may be missing from any of them).
        flagged: ``{path: kind}`` of the layers that broke a rule this epoch
            (``"global"`` for the global norm).
        global_norm: The global norm at ``step``, or ``None``.
    """
    if step is None:
        return f"GradientMonitor: epoch {epoch + 1}: no step logged yet."
    rows = [(p, norms.get(p), ratios.get(p), dead.get(p), flagged.get(p)) for p in paths]
    rows.append(("(global)", global_norm, None, None, flagged.get("global")))
    width = max(len("layer"), *(len(row[0]) for row in rows))
    lines = [
        f"GradientMonitor: epoch {epoch + 1}, last logged step {step}",
        f"{'layer':<{width}}  {'grad norm':>10}  {'update ratio':>12}  {'dead':>5}",
    ]
    for path, norm, ratio, fraction, kind in rows:
        line = (
            f"{path:<{width}}  {_number(norm, '10.3e'):>10}  {_number(ratio, '12.2e'):>12}  "
            f"{_number(fraction, '5.2f'):>5}"
        )
        lines.append(f"{line}  ! {kind}" if kind else line)
    marked = sum(1 for row in rows if row[4])
    if marked:
        lines.append(f"! {marked} broke a rule this epoch (GradientWarning says which and when)")
    return "\n".join(lines)
