"""Drive each notebook widget headless: set a control's value, read the widget's .result.
(``shown``, what the widgets display, comes from conftest.py.)"""
import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from d2lresnet import (ARCHITECTURES, Bottleneck, block_output_shape, count_layers,
                       count_parameters, format_trace, resnet, resnet18, resnet34, resnet50,
                       trace_shapes)
from d2lresnet.drawing.diagrams import drawn
from d2lresnet.widgets import (apply_architecture, block_shape_widget, controls,
                               format_trace_table, plot_resolution_and_channels, stage_widget,
                               summarize_stages, trace_widget)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn_layers(fig):
    """The layers an architecture picture drew, as (type, out_channels) pairs."""
    return [(type(m).__name__, getattr(m, "out_channels", None)) for box in drawn(fig)
            for m in box.modules]


def layers_of(net):
    return [(type(m).__name__, getattr(m, "out_channels", None))
            for part in net for m in (part if isinstance(part, torch.nn.Sequential) else [part])]


def set_controls(widget, **values):
    named = controls(widget)
    for name, value in values.items():
        named[name].value = value
    return widget.result


# block_shape_widget ----------------------------------------------------------------------

def test_block_widget_starts_on_the_notes_downsampling_block():
    assert block_shape_widget().result == "output shape (6, 3, 3)"


def test_block_widget_stride_2_without_1x1_cannot_add():
    widget = block_shape_widget()
    text = set_controls(widget, input_channels=6, num_channels=6, strides=2, use_1x1conv=False)
    assert text.startswith("cannot add")
    assert "stride 2" in text
    assert set_controls(widget, use_1x1conv=True) == "output shape (6, 3, 3)"


def test_block_widget_channel_change_without_1x1_cannot_add():
    text = set_controls(block_shape_widget(), strides=1, use_1x1conv=False)
    assert text.startswith("cannot add") and "3 channels" in text


def test_block_widget_keeps_shape_at_stride_1():
    assert set_controls(block_shape_widget(), num_channels=3, strides=1,
                        use_1x1conv=False) == "output shape (3, 6, 6)"


# Whether block_output_shape agrees with a real Residual is test_shapes.py's hypothesis test;
# here, only that the widget passes each control to it under the right name.
@pytest.mark.parametrize("values", [
    dict(input_channels=2, num_channels=4, strides=3, use_1x1conv=True, height=7, width=5),
    dict(input_channels=5, num_channels=5, strides=2, use_1x1conv=False, height=1, width=1),
    dict(input_channels=5, num_channels=5, strides=2, use_1x1conv=False, height=1, width=4),
    dict(input_channels=2, num_channels=4, strides=1, use_1x1conv=False, height=7, width=7),
])
def test_block_widget_says_what_block_output_shape_says(values):
    text = set_controls(block_shape_widget(), **values)
    controls_values = dict(values)
    expected = block_output_shape(controls_values.pop("input_channels"),
                                  controls_values.pop("num_channels"), **controls_values)
    assert text == str(expected)


@pytest.mark.parametrize("kwargs, words", [
    (dict(input_channels=100), r"^input_channels must be a whole number from 1 to 16, got 100$"),
    (dict(strides=0), r"^strides must be a whole number from 1 to 3"),
    (dict(height=2.5), r"^height must be a whole number"),
    (dict(use_1x1conv="no"), r"^use_1x1conv must be True or False"),
])
def test_block_widget_refuses_a_start_its_sliders_cannot_show(kwargs, words):
    # An IntSlider clamps silently: 100 input channels used to become 16.
    with pytest.raises(ValueError, match=words):
        block_shape_widget(**kwargs)


def test_block_widget_takes_numpy_integers():
    import numpy as np

    assert block_shape_widget(np.int64(4), np.int64(8)).result == "output shape (8, 3, 3)"


# stage_widget ----------------------------------------------------------------------------

def test_count_parameters_and_layers_work_on_the_meta_device():
    with torch.device("meta"):
        meta_net = resnet18()
    assert next(meta_net.parameters()).is_meta
    assert count_parameters(meta_net) == count_parameters(resnet18()) == 11_178_378
    assert count_layers(meta_net) == 18


def test_stage_widget_starts_as_resnet18():
    result = stage_widget().result
    assert result.parameters == count_parameters(resnet18()) == 11_178_378
    assert result.layers == 18


def test_stage_widget_resnet34_depths_by_hand():
    widget = stage_widget()
    result = set_controls(widget, b2_blocks=3, b3_blocks=4, b4_blocks=6, b5_blocks=3)
    assert result.parameters == count_parameters(resnet34()) == 21_290_250
    assert result.layers == 34


def test_stage_widget_architectures_by_button_and_by_function():
    widget = stage_widget()
    widget.architecture_buttons["ResNet-50"].click()
    assert controls(widget)["block"].value is Bottleneck
    assert widget.result == (count_parameters(resnet50()), 50)
    apply_architecture(widget, "ResNet-34")
    assert widget.result == (21_290_250, 34)
    widget.architecture_buttons["ResNet-18"].click()
    assert widget.result == (11_178_378, 18)


def test_stage_widget_widths_and_block():
    widget = stage_widget()
    result = set_controls(widget, b2_channels=32, b5_channels=256, block=Bottleneck)
    expected = resnet(ARCHITECTURES["resnet18"][1], (32, 128, 256, 256), Bottleneck)
    assert result == (count_parameters(expected), count_layers(expected))
    assert result.layers == 3 * 8 + 2  # three convs per bottleneck, plus the stem and the head


def test_stage_widget_draws_the_architecture_it_describes(shown):
    widget = stage_widget()
    assert drawn_layers(shown[-1]) == layers_of(resnet18())
    assert "ResNet-18" in shown[-1].axes[0].get_title()
    set_controls(widget, b2_blocks=3, b4_blocks=1, b3_channels=32, block=Bottleneck)
    expected = resnet((3, 2, 1, 2), (64, 32, 256, 512), Bottleneck)
    assert drawn_layers(shown[-1]) == layers_of(expected)
    shapes = [b.shape for b in drawn(shown[-1]) if b.shape]
    assert shapes == [tuple(r.shape) for r in trace_shapes(expected, (1, 1, 224, 224))]


def test_an_architecture_button_draws_its_network_once(shown):
    widget = stage_widget()
    before = len(shown)
    widget.architecture_buttons["ResNet-34"].click()  # moves seven controls
    assert len(shown) == before + 1
    assert drawn_layers(shown[-1]) == layers_of(resnet34())
    assert widget.result == (21_290_250, 34)


def test_stage_widget_starts_on_a_button_or_says_which_there_are():
    assert stage_widget("ResNet-34").result == (21_290_250, 34)
    with pytest.raises(ValueError, match="buttons for ResNet-18, ResNet-34, ResNet-50, "
                                         "got 'ResNet-101'$"):
        stage_widget("ResNet-101")


def test_summarize_stages_of_a_huge_network_stays_cheap():
    # 8 bottleneck blocks of 1024 (x4) channels per stage: hundreds of millions of parameters,
    # counted without allocating them.
    summary = summarize_stages((8, 8, 8, 8), (1024,) * 4, Bottleneck)
    assert summary.layers == 3 * 32 + 2
    assert summary.parameters > 300_000_000


# trace_widget ----------------------------------------------------------------------------

def test_trace_widget_at_224_is_the_notes_printout():
    from test_shapes import NOTES_TRACE  # REFERENCE.md's printout, typed in, not computed

    assert format_trace(trace_widget().result) == NOTES_TRACE


@pytest.mark.parametrize("input_size", [100, 16, 544])
def test_trace_widget_refuses_a_size_its_slider_cannot_show(input_size):
    with pytest.raises(ValueError, match=f"^input_size must be a .*got {input_size}$"):
        trace_widget(input_size=input_size)


def resnet18_trace_224():
    return trace_shapes(resnet18(), (1, 1, 224, 224))


def test_trace_widget_at_96():
    widget = trace_widget()
    rows = set_controls(widget, input_size=96)
    assert [tuple(row.shape[2:]) for row in rows[:5]] == [(24, 24), (24, 24), (12, 12),
                                                          (6, 6), (3, 3)]
    assert [row.shape[1] for row in rows[:5]] == [64, 64, 128, 256, 512]
    assert tuple(rows[-1].shape) == (1, 10)


def test_trace_widget_smallest_input_ends_at_1x1():
    rows = set_controls(trace_widget(), input_size=32)
    assert tuple(rows[4].shape) == (1, 512, 1, 1)


def test_trace_widget_traces_a_given_network():
    net = resnet((1, 1, 1, 1), (16, 32, 64, 128), in_channels=3, num_classes=5)
    rows = set_controls(trace_widget(net), input_size=64)
    assert tuple(rows[4].shape) == (1, 128, 2, 2)
    assert tuple(rows[-1].shape) == (1, 5)


def test_trace_widget_draws_the_architecture_at_the_chosen_size(shown):
    net = resnet((1, 1, 1, 1), (16, 32, 64, 128), in_channels=3, num_classes=5)
    widget = trace_widget(net)
    for size in (224, 64):
        rows = set_controls(widget, input_size=size)
        pictures = [fig for fig in shown if drawn(fig)]
        assert drawn_layers(pictures[-1]) == layers_of(net)
        assert [b.shape for b in drawn(pictures[-1]) if b.shape] == [tuple(r.shape) for r in rows]
        assert f"3×{size}×{size}" in pictures[-1].axes[0].get_title()
    assert [b.shape for b in drawn(pictures[-1]) if b.shape][4] == (1, 128, 2, 2)


def test_trace_table_and_plot():
    rows = resnet18_trace_224()
    table = format_trace_table(rows).splitlines()
    assert table[1].split() == ["b1", "(1,", "64,", "56,", "56)", "3,328"]
    assert table[5].startswith("b5") and "(1, 512, 7, 7)" in table[5]
    assert table[-1].split()[-1] == "5,130"
    ax = plot_resolution_and_channels(rows)
    heights = ax.lines[0].get_ydata()
    assert list(heights) == [56, 56, 28, 14, 7]


# Issue 35 items 12 and 15: a value a control cannot show is refused in one line -------------

@pytest.mark.parametrize("name, value, words", [
    ("height", 100, "height must be a whole number from 1 to 32, got 100"),  # was clamped to 32
    ("strides", 2.5, "strides must be a whole number from 1 to 3, got 2.5"),  # was cast to 2
    ("input_channels", 0, "input_channels must be a whole number from 1 to 16, got 0")])
def test_a_slider_refuses_what_it_cannot_show_instead_of_changing_it(name, value, words):
    widget = block_shape_widget()
    before = controls(widget)[name].value
    with pytest.raises(ValueError, match=words):
        controls(widget)[name].value = value
    assert controls(widget)[name].value == before
    controls(widget)["height"].value = 7  # a value it can show still moves it
    assert widget.result == "output shape (6, 4, 3)"


def test_a_trace_slider_refuses_a_size_between_its_steps():
    with pytest.raises(ValueError, match="input_size must be a multiple of 32"):
        controls(trace_widget())["input_size"].value = 100


@pytest.mark.parametrize("name, value, words", [
    ("b2_channels", 48, "must be one of 16, 32, 64, 128, 256, 512, 1024, got 48"),
    ("block", "bottleneck", "must be one of basic")])
def test_a_menu_refuses_what_it_does_not_offer_in_one_line(name, value, words):
    widget = stage_widget()
    with pytest.raises(ValueError, match=words) as err:
        controls(widget)[name].value = value
    assert "\n" not in str(err.value)
    assert widget.result == summarize_stages((2, 2, 2, 2), (64, 128, 256, 512))


@pytest.mark.parametrize("net", ["foo", 18, None.__class__])
def test_the_trace_widget_refuses_what_is_no_network_in_one_line(net):
    with pytest.raises(ValueError, match="net must be a network"):
        trace_widget(net=net)
