"""The ResNet family table: every member of ARCHITECTURES against torchvision's metadata."""
import pytest

from d2lresnet import ARCHITECTURES, count_parameters, resnet18
from d2lresnet.experiments.family import family_table, format_family_table, torchvision_meta


@pytest.fixture(scope="module")
def rows():
    return family_table()


def test_one_row_per_architecture(rows):
    assert [row["model"] for row in rows] == ["ResNet-18", "ResNet-34", "ResNet-50",
                                              "ResNet-101", "ResNet-152", "ResNeXt-50 (32x4d)"]
    assert [row["layers"] for row in rows] == [18, 34, 50, 101, 152, 50]
    assert [row["block"] for row in rows] == (["Residual"] * 2 + ["Bottleneck"] * 3
                                              + ["ResNeXtBottleneck"])
    assert rows[4]["depths"] == (3, 8, 36, 3)  # the paper's Table 1
    assert len(rows) == len(ARCHITECTURES)


def test_sizes_and_costs_match_torchvision(rows):
    for row in rows:
        assert row["params_tv_config"] == row["params_torchvision"]
        assert row["gmacs_224"] == pytest.approx(row["gmacs_torchvision"], abs=0.01)
    # torchvision's resnet18(), resnet34() and resnet50(), counted once by building them:
    assert [row["params_torchvision"] for row in rows[:3]] == [11_689_512, 21_797_672,
                                                               25_557_032]
    assert rows[0]["params"] == count_parameters(resnet18()) == 11_178_378


def test_resnext_is_resnet50_with_grouped_3x3_convs(rows):
    resnet50, resnext = rows[2], rows[5]
    assert resnext["depths"] == resnet50["depths"]
    # torchvision's resnext50_32x4d() has 25,028,904 parameters (counted by building it once)
    assert resnext["params_tv_config"] == resnext["params_torchvision"] == 25_028_904
    assert resnext["gmacs_torchvision"] == pytest.approx(4.23)
    assert resnext["top1"] > resnet50["top1"]  # about the same cost, 1.5 points better


def test_metadata_is_torchvisions_v1_weights():
    meta = torchvision_meta("resnet50")
    assert meta["num_params"] == 25_557_032
    assert meta["_metrics"]["ImageNet-1K"]["acc@1"] == pytest.approx(76.13)


def test_format_table(rows):
    lines = format_family_table(rows, ["model", "params", "gmacs_96", "top1"]).splitlines()
    assert lines[0].split() == ["model", "params", "gmacs_96", "top1"]
    assert lines[1].split() == ["ResNet-18", "11,178,378", f"{rows[0]['gmacs_96']:.2f}",
                                "69.76"]
    assert len({len(line) for line in lines}) == 1  # aligned
    assert format_family_table([dict(a=None, b="x")]).splitlines()[1].split() == ["-", "x"]


def test_format_table_headers_follow_the_language(rows):
    from d2lresnet import i18n

    try:
        i18n.set_language("zh")
        header = format_family_table([dict(rows[0], extra=1.8)],
                              ["model", "params", "extra"]).splitlines()[0]
    finally:
        i18n.set_language("en")
    assert header.split() == [i18n.MESSAGES["zh"]["col_model"], i18n.MESSAGES["zh"]["col_params"],
                              "extra"]  # a column without a key keeps its name


def test_each_step_up_the_family_changes_one_part_of_its_entry():
    # Notebook 07: "easier to modify": ResNet-18 -> 34 changes the blocks per stage, 34 -> 50
    # and 50 -> ResNeXt-50 the block, each step one part of one ARCHITECTURES entry.
    steps = [("resnet18", "resnet34"), ("resnet34", "resnet50"), ("resnet50", "resnext50_32x4d")]
    changed = [[part for part, x, y in zip(("block", "depths"), ARCHITECTURES[a], ARCHITECTURES[b])
                if x != y] for a, b in steps]
    assert changed == [["depths"], ["block"], ["block"]]
