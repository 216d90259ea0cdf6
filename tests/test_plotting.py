"""The one matplotlib setup: headless backend, house size, figures written and closed."""

from __future__ import annotations

from reasonembed.plotting import DPI, FIGSIZE, new_figure, pyplot, save_figure


def test_figures_are_headless_written_in_house_style_and_closed(tmp_path):
    plt = pyplot()
    assert plt.get_backend().lower() == "agg"
    fig, ax = new_figure()
    assert tuple(fig.get_size_inches()) == FIGSIZE
    ax.plot([1, 2, 3], [3, 1, 2])
    path = save_figure(fig, tmp_path / "nested" / "plot.png")  # the folder is created
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert fig.number not in plt.get_fignums()  # closed: long runs do not accumulate figures

    from PIL import Image

    with Image.open(path) as image:
        assert image.size == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
