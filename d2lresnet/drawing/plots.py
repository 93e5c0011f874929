"""Pictures: image grids, the live training plot, the confusion matrix."""
import os

import matplotlib.pyplot as plt
import torch

from .. import i18n
from ..checks import true_or_false
from ..data import class_names as fashion_mnist_class_names

__all__ = ["present", "present_from_environment", "present_style", "in_notebook", "save_figure",
           "show_images", "ProgressPlot", "plot_confusion_matrix"]

# For presenting to a room: present(True), or D2LRESNET_PRESENT=1 read by
# present_from_environment(), enlarges figures and text.
_PRESENT_SCALE = 1.6
_STYLE_ID = "d2lresnet-present-style"
# JupyterLab's and ipywidgets' own sizes (px) at scale 1; present() multiplies them.
_OUTPUT_SIZES = {
    "--jp-code-font-size": 13,                 # printed output (stdout, tracebacks)
    "--jp-content-font-size1": 14,             # HTML/Markdown output, tables
    "--jp-ui-font-size1": 13,
    "--jp-widgets-font-size": 13,              # widget labels, readouts, dropdowns, buttons
    "--jp-widgets-inline-height": 28,
    "--jp-widgets-inline-label-width": 80,
    "--jp-widgets-inline-width": 300,
    "--jp-widgets-inline-width-short": 148,
    "--jp-widgets-slider-handle-size": 16,
    "--jp-widgets-slider-track-thickness": 4,
    "--jp-widgets-menu-item-height": 24,
}


def present_style(scale=_PRESENT_SCALE):
    """A <style> block that enlarges everything inside cell outputs (printed text, widget
    labels, slider readouts, dropdowns) by ``scale``, leaving the rest of JupyterLab alone.
    It sets JupyterLab's and ipywidgets' CSS variables on the output area only."""
    sizes = "\n".join(f"  {name}: {px * scale:g}px;" for name, px in _OUTPUT_SIZES.items())
    return (f'<style id="{_STYLE_ID}">\n'
            f".jp-OutputArea, .jupyter-widgets, .output_area {{\n{sizes}\n}}\n"
            f".jp-OutputArea .jp-RenderedText pre, .output_area pre {{\n"
            f"  font-size: {13 * scale:g}px; line-height: 1.3;\n}}\n"
            f".jp-OutputArea .widget-label, .jp-OutputArea .widget-readout,\n"
            f".jp-OutputArea .widget-label-basic, .jp-OutputArea .widget-button {{\n"
            f"  font-size: {13 * scale:g}px;\n}}\n"
            f"</style>")


def present(on=True):
    """Bigger figures and fonts, readable from the back of a lecture hall.

    Scales matplotlib's figure.dpi and font.size; in a notebook it also displays a <style>
    block that enlarges widget labels, readouts and printed output. ``present(False)``
    restores the defaults and, in the same session, empties every style block shown before."""
    scale = _PRESENT_SCALE if true_or_false("on", on) else 1.0
    plt.rcParams.update({"figure.dpi": 100 * scale, "font.size": 10 * scale})
    if in_notebook():
        _show_style(on)


def _show_style(on):
    from IPython.display import HTML, display, update_display
    html = HTML(present_style() if on else "")
    # Every earlier copy (display_id) follows the switch; a new one is shown when turning on.
    update_display(html, display_id=_STYLE_ID)
    if on:
        display(html, display_id=_STYLE_ID)


def save_figure(fig, path):
    """Save a figure as PNG at 120 dpi, making its folder first (the saved runs' figures)."""
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def in_notebook():
    """Whether this runs in a notebook kernel (JupyterLab, Jupyter, Colab), where figures and
    widgets show, rather than a script or a terminal IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = type(get_ipython())
    # Colab's kernel runs its own shell class, google.colab._shell.Shell.
    return shell.__name__ == "ZMQInteractiveShell" or shell.__module__.startswith("google.colab")


_SWITCH = {"1": True, "true": True, "yes": True,
           "0": False, "false": False, "no": False, "": False}


def present_from_environment():
    """present() if D2LRESNET_PRESENT says so (1, true, yes; 0, false, no or empty: not), for a
    notebook's first cell: ``D2LRESNET_PRESENT=1 make lab`` then presents every notebook.
    Nothing changes when it is off. Returns whether it presented."""
    value = os.environ.get("D2LRESNET_PRESENT", "")
    on = _SWITCH.get(value.strip().lower())
    if on is None:
        raise ValueError(f"D2LRESNET_PRESENT must be 1, true, yes (present) or 0, false, no, "
                         f"empty (not), got {value!r}")
    if on:
        present(True)
    return on


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """A grid of images with optional titles (the book's show_images)."""
    _, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale),
                           squeeze=False)
    for i, (ax, img) in enumerate(zip(axes.flat, imgs)):
        ax.imshow(torch.as_tensor(img).squeeze().cpu().numpy(), cmap="gray_r")
        ax.axis("off")
        if titles:
            ax.set_title(titles[i], fontsize="small")
    plt.tight_layout()
    return axes


class ProgressPlot:
    """Train loss, train accuracy and test accuracy against epochs, redrawn in place in
    JupyterLab; headless (a script, CI) it prints one line per epoch instead."""

    def __init__(self, num_epochs, live=None, quiet=False):
        self.live = in_notebook() if live is None else live
        self.quiet = quiet
        self.num_epochs = num_epochs
        self.points = {"train loss": ([], []), "train acc": ([], []), "test acc": ([], [])}
        self.fig = self.handle = None

    @classmethod
    def replay(cls, run):
        """The plot a saved run (train_loss, train_acc and test_acc per epoch) drew as it
        trained, drawn at once: the book's figure for a run too long to repeat in class."""
        plot = cls(len(run["test_acc"]), live=False, quiet=True)
        for i in range(plot.num_epochs):
            plot.add(i + 1, **{key: run[key][i] for key in ("train_loss", "train_acc", "test_acc")})
        plot._draw()
        return plot

    def add(self, epoch, **values):
        for name, value in values.items():
            xs, ys = self.points[name.replace("_", " ")]
            xs.append(epoch)
            ys.append(value)
        if self.live:
            self._draw()

    def epoch_done(self, epoch, line):
        if not (self.live or self.quiet):
            print(line, flush=True)

    def _draw(self):
        from IPython.display import display
        if self.fig is None:
            self.fig, self.ax = plt.subplots(figsize=(5, 3.5))
            plt.close(self.fig)  # shown through the display handle only
        ax = self.ax
        ax.cla()
        for (name, (xs, ys)), style in zip(self.points.items(), ["-", "m--", "g-."]):
            ax.plot(xs, ys, style, label=i18n.label(name.replace(" ", "_")))
        ax.set_xlim(0, self.num_epochs)
        ax.set_xlabel(i18n.label("epoch"))
        ax.grid(True)
        ax.legend()
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)


def plot_confusion_matrix(labels, predictions, class_names=None):
    """Rows are true classes, columns predictions; counts in each cell. Returns the counts.
    class_names: Fashion-MNIST's in the i18n language (data.class_names()) unless given."""
    class_names = class_names or fashion_mnist_class_names()
    k = len(class_names)
    matrix = torch.bincount(torch.as_tensor(labels) * k + torch.as_tensor(predictions),
                            minlength=k * k).reshape(k, k)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.imshow(matrix.numpy(), cmap="Blues")  # a tensor here warns (numpy 2's copy keyword)
    ax.set_xticks(range(k), class_names, rotation=60, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel(i18n.label("predicted_class"))
    ax.set_ylabel(i18n.label("true_class"))
    for i in range(k):
        for j in range(k):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize="x-small",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    return matrix
