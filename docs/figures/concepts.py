"""Draw the Concepts page's figures (docs/concepts.md) into docs/images/.

    PYTHONPATH=src python docs/figures/concepts.py

Deterministic: the curves are nalm's own functions on fixed grids, and the PNGs carry no date
or software version, so a rerun writes the same bytes.
"""
from __future__ import annotations

from pathlib import Path

IMAGES = Path(__file__).resolve().parent.parent / "images"


def nac_and_gate(plt, torch, F, style):
    """W = tanh(Ŵ)·σ(M̂) over (Ŵ, M̂), and a NALU's output on [3, 4] as its gate moves."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.6), layout="constrained",
                                         gridspec_kw={"width_ratios": [1.1, 1.0]})
    grid = torch.linspace(-6, 6, 241, dtype=torch.float64)
    w_hat, m_hat = torch.meshgrid(grid, grid, indexing="xy")
    weight = F.nac_weight(w_hat, m_hat)
    image = left.pcolormesh(grid, grid, weight, cmap="RdBu_r", vmin=-1, vmax=1, shading="auto",
                            rasterized=True)
    left.contour(grid, grid, weight, levels=[-0.95, -0.05, 0.05, 0.95], colors="k", linewidths=0.6)
    for x, y, text in ((4, 4, "W ≈ 1"), (-4, 4, "W ≈ -1"), (0, -4, "W ≈ 0")):
        left.text(x, y, text, ha="center", va="center", fontsize=10,
                  bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 2})
    left.set(xlabel="Ŵ", ylabel="M̂", title="NAC weight W = tanh(Ŵ)·σ(M̂)")
    figure.colorbar(image, ax=left, label="W", ticks=[-1, 0, 1])

    z = torch.linspace(-8, 8, 161, dtype=torch.float64)
    g = torch.sigmoid(z)
    a, m = 3.0 + 4.0, 3.0 * 4.0  # both paths with W = [1, 1] on x = [3, 4]
    right.plot(z, F.gated_mix(g, torch.tensor(a), torch.tensor(m)), color=style.color(0),
               label="NALU output y = g·a + (1 − g)·m")
    right.axhline(a, color=style.color(1), linestyle="--", linewidth=1, label="a = 3 + 4 (additive path)")
    right.axhline(m, color=style.color(2), linestyle=":", linewidth=1.5, label="m = 3 · 4 (multiplicative path)")
    right.set(xlabel="gate logit G·x", ylabel="y", title="NALU gate g = σ(G·x) on x = [3, 4]", ylim=(6, 13))
    gate_axis = right.twinx()
    gate_axis.plot(z, g, color=style.color(7), linestyle="-.", linewidth=1, label="gate g (right axis)")
    gate_axis.set(ylabel="g", ylim=(-0.1, 1.1))
    handles = right.get_legend_handles_labels()[0] + gate_axis.get_legend_handles_labels()[0]
    right.legend(handles=handles, loc="center left", fontsize=8, frameon=False, bbox_to_anchor=(0.0, 0.42))
    return figure


def regularizer(plt, torch, F, style):
    """The NAU's sparsity penalty, and λ(t)/λ̂ of the schedules nalm's experiments run."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.9), layout="constrained")
    w = torch.linspace(-1.5, 1.5, 301, dtype=torch.float64)
    penalty = torch.minimum(w.abs(), (1 - w.abs()).abs())
    left.plot(w, penalty, color=style.color(0))
    left.axvspan(-1.5, -1, color="0.9")
    left.axvspan(1, 1.5, color="0.9")
    left.text(-1.25, 0.42, "clamped", ha="center", fontsize=8)
    left.text(1.25, 0.42, "clamped", ha="center", fontsize=8)
    left.set(xlabel="W", ylabel="min(|W|, |1 − |W||)", title="NAU sparsity penalty: zero at -1, 0, 1",
             xticks=[-1, -0.5, 0, 0.5, 1], ylim=(0, 0.55))

    steps = range(0, 60_001, 250)
    schedules = (
        ("NAU, madsen2020-static (5e3 → 5e4)", 5e3, 5e4),
        ("NAU/NMU, madsen2020-static at 5e4 steps (20%-40%)", 1e4, 2e4),
        ("NAU, NMU, mistry2022-single (2e4 → 3.5e4)", 2e4, 3.5e4),
    )
    for i, (label, start, end) in enumerate(schedules):
        right.plot(list(steps), [F.ramp(t, 1.0, start, end) for t in steps], color=style.color(i),
                   linestyle=style.line_style(i), label=label)
    for step, text in ((2_000, "2,000"), (10_000, "1e4")):
        right.axvline(step, color="0.4", linewidth=0.8)
        right.text(step + 600, 1.04, text, fontsize=8, color="0.3")
    right.set(xlabel="training step", ylabel="λ(t) / λ̂", title="The ramp λ(t) = λ̂·clip((t − start)/(end − start), 0, 1)",
              ylim=(-0.05, 1.12))
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8, frameon=False)
    return figure


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from nalm.report import style
    from nalm.units import functional as F

    with matplotlib.rc_context(style.RC):
        for name, draw in (("concepts-nac-nalu", nac_and_gate), ("concepts-regularizer", regularizer)):
            figure = draw(plt, torch, F, style)
            IMAGES.mkdir(parents=True, exist_ok=True)
            figure.savefig(IMAGES / f"{name}.png", dpi=110, metadata={"Software": None})
            plt.close(figure)
            print(IMAGES / f"{name}.png")


if __name__ == "__main__":
    main()
