"""The ablation of the speed records' tricks: runs saved one by one, nothing trained twice, a
table from the saved runs, and the saved runs are of today's recipes."""
import dataclasses
import json
import re
import statistics
from pathlib import Path

import pytest
import torch

from d2lresnet.experiments import ablation
from d2lresnet.presets import PRESETS, Preset, get_preset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_base(monkeypatch):
    monkeypatch.setattr(ablation, "BASE", ("smoke", dict(resize=None, num_epochs=1,
                                                         batch_size=32, limit=64,
                                                         test_limit=32)))


def test_shifted_moves_the_picture_and_brings_in_background():
    X = torch.arange(16.0).reshape(1, 1, 4, 4)
    down_right = ablation.shifted(X, 1, 1)
    assert torch.equal(down_right[0, 0, 1:, 1:], X[0, 0, :3, :3])
    assert down_right[0, 0, 0].abs().sum() == 0 and down_right[0, 0, :, 0].abs().sum() == 0
    assert torch.equal(ablation.shifted(X, 0, -2)[0, 0, :, :2], X[0, 0, :, 2:])


def test_each_run_is_saved_and_a_rerun_trains_only_what_is_missing(tmp_path, tiny_base,
                                                                   monkeypatch):
    out = tmp_path / "ablation.json"
    ablation.run(["base", "zero_init_residual"], [0], out)
    saved = json.loads(out.read_text())
    assert set(saved["runs"]) == {"base/0", "zero_init_residual/0"}
    run = saved["runs"]["zero_init_residual/0"]
    assert run["recipe"]["zero_init_residual"] and not saved["runs"]["base/0"]["recipe"][
        "zero_init_residual"]
    assert 0 <= run["test_acc_tta"] <= 1 and len(run["book_compute_fraction"]) == 1
    # its words say what it trained, not what the preset it started from trains
    assert "zero_init_residual=True" in run["recipe"]["about"]
    assert "zero_init" not in saved["runs"]["base/0"]["recipe"]["about"]

    trained = []
    train_one = ablation.run_one
    monkeypatch.setattr(ablation, "run_one", lambda *job: trained.append(job) or
                        train_one(*job))
    ablation.run(["base", "zero_init_residual"], [0, 1], out)
    assert sorted(job[:2] for job in trained) == [("base", 1), ("zero_init_residual", 1)]
    assert all(job[3] == ablation.BASE for job in trained)  # the tiny base, not the real one
    assert len(json.loads(out.read_text())["runs"]) == 4


def test_another_commands_file_is_refused_before_training(tmp_path):
    out = tmp_path / "frontier.json"
    out.write_text(json.dumps({"quick": {"preset": "quick"}}))
    with pytest.raises(ValueError, match="does not hold an ablation"):
        ablation.run(["base"], [0], out)
    with pytest.raises(ValueError, match="no trick named fast"):
        ablation.run(["fast"], [0], tmp_path / "new.json")


def test_the_table_gives_each_tricks_mean_and_its_change_from_the_base():
    runs = {f"{trick}/{seed}": {"trick": trick, "seed": seed, "test_acc": [0.5, acc],
                                "book_compute_fraction": [0.02, 0.04],
                                "test_acc_flips": acc + 0.01, "test_acc_tta": acc + 0.02}
            for trick, accs in [("base", (0.90, 0.92)), ("lookahead", (0.93, 0.93))]
            for seed, acc in enumerate(accs)}
    table = ablation.format_table({"runs": runs}).splitlines()
    assert table[0].startswith("| trick | seeds | compute (book = 1) | to 0.92 |")
    assert re.search(r"`base` \| 2 \| 0\.040 \| – \| 0\.9100 ± 0\.0100 \|  \| 0\.9200 \| 0\.9300",
                     table[2])
    assert "| 0.040 | 0.040 | 0.9300 ± 0.0000 | +0.0200 |" in table[3]  # both seeds reached 0.92


def _what_trains(recipe):
    """A recipe's fields but its words and notebook 06's size, which train nothing."""
    return {k: v for k, v in recipe.items() if k not in ("twins", "about")}


@pytest.mark.parametrize("budget", list(ablation.BUDGETS))
def test_the_saved_runs_are_of_todays_recipes_and_the_readme_shows_their_table(budget):
    path = ROOT / ablation.SAVED[budget]
    if not path.exists():
        pytest.skip(f"no saved ablation at {budget} yet")
    saved = ablation.load(path, missing_ok=False, base=ablation.BUDGETS[budget])
    name, overrides = ablation.BUDGETS[budget]
    for key, run in saved["runs"].items():
        trick = run["trick"]
        assert key == f"{trick}/{run['seed']}"
        today = json.loads(json.dumps(get_preset(name, **{**overrides,
                                                          **ablation.TRICKS[trick]}).__dict__,
                                      default=lambda o: o.__dict__))
        assert _what_trains(run["recipe"]) == _what_trains(today), key
    assert ablation.format_table(saved) in (ROOT / "README.md").read_text()


def test_the_figure_draws_every_seed_and_each_tricks_mean():
    runs = {f"{trick}/{seed}": {"trick": trick, "seed": seed, "test_acc": [acc],
                                "book_compute_fraction": [0.04], "test_acc_flips": acc,
                                "test_acc_tta": acc}
            for trick, accs in [("base", (0.90, 0.92, 0.91)), ("whiten_stem", (0.93, 0.94))]
            for seed, acc in enumerate(accs)}
    ax = ablation.plot_ablation({"runs": runs}).axes[0]
    dots = {tuple(line.get_ydata())[0]: sorted(line.get_xdata()) for line in ax.lines
            if line.get_marker() == "o"}
    assert dots == {0: [0.90, 0.91, 0.92], 1: [0.93, 0.94]}
    means = [line.get_xdata()[0] for line in ax.lines if line.get_marker() != "o"
             and len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]]
    assert means[:2] == pytest.approx([0.91, 0.935])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["base", "whiten_stem"]
    assert "Xavier stem" in ax.get_title()  # the title names the stem of the base
    stacked = {"base": ablation.BUDGETS["1/20+whiten"][1], "runs": runs}
    assert "whitened stem" in ablation.plot_ablation(stacked).axes[0].get_title()


def test_the_readme_and_08_quote_the_whitened_stem_against_the_xavier_stem_seed_by_seed():
    pairs = json.loads((ROOT / "notebooks" / "figures" / "whiten_cpu.json").read_text())
    readme = (ROOT / "README.md").read_text()
    gains_at_4, gains_at_end = [], []
    for seed in (0, 1, 2):
        xavier, whitened = pairs[f"xavier_stem/{seed}"], pairs[f"whitened_stem/{seed}"]
        for run, stem in ((xavier, False), (whitened, True)):  # today's quick, but for the stem
            recipe = Preset(**run["recipe"])  # a field saved before it existed: its default, off
            assert recipe.whiten_stem == stem, seed
            assert dataclasses.replace(recipe, whiten_stem=True) == PRESETS["quick"], seed
        assert (f"| {seed} | {xavier['test_acc'][-1]:.4f} | {whitened['test_acc'][-1]:.4f} | "
                f"{xavier['test_acc'][3]:.4f} | {whitened['test_acc'][3]:.4f} |") in readme
        gains_at_4.append(whitened["test_acc"][3] - xavier["test_acc"][3])
        gains_at_end.append(whitened["test_acc"][-1] - xavier["test_acc"][-1])
    quoted = [f"{statistics.mean(gains_at_4):.3f}", f"{statistics.mean(gains_at_end):.3f}"]
    for text in [readme] + [(ROOT / "notebooks" / lang / "08_appendix.py").read_text()
                            for lang in ("en", "zh")]:
        assert all(number.lstrip("0") in text for number in quoted), quoted


def test_the_readme_quotes_the_shorter_whitened_schedule_and_it_reaches_092_for_less():
    pairs = json.loads((ROOT / "notebooks" / "figures" / "whiten_cpu.json").read_text())
    readme = (ROOT / "README.md").read_text()
    for seed in (0, 1, 2):
        run = pairs[f"whitened_4x128/{seed}"]
        assert Preset(**run["recipe"]) == get_preset("quick", num_epochs=4, batch_size=128)
        assert run["test_acc"][-1] >= 0.92 and len(run["test_acc"]) == 4, seed
        assert f"{run['test_acc'][-1]:.4f}" in readme
    spent = pairs["whitened_4x128/0"]["train_flops"][-1]  # counted as the run went, in total
    assert spent / pairs["whitened_stem/0"]["train_flops"][-1] == pytest.approx(0.8)  # a fifth less


def test_a_trick_already_in_the_base_is_refused_before_training(tmp_path):
    out = tmp_path / "stacked.json"
    with pytest.raises(ValueError, match="whiten_stem is already in this base"):
        ablation.run(["zero_init_residual", "whiten_stem"], [0], out,
                     base=ablation.BUDGETS["1/20+whiten"])
    assert not out.exists()


def test_a_file_of_another_budget_is_refused(tmp_path):
    out = tmp_path / "ablation.json"
    out.write_text(json.dumps({"kind": "ablation", "base": ablation.BUDGETS["1/20"][1],
                               "runs": {}}))
    assert ablation.load(out, base=ablation.BUDGETS["1/20"])["runs"] == {}
    with pytest.raises(ValueError, match="another budget"):
        ablation.run(["base"], [0], out, base=ablation.BUDGETS["1/10"])


def test_the_readme_counts_the_ten_test_views_at_a_tenth():
    from d2lresnet.experiments.runs import book_flops
    from d2lresnet.model import resnet18
    from d2lresnet.shapes import count_flops
    saved = ablation.load(ROOT / ablation.SAVED["1/10"], missing_ok=False)
    trained = saved["runs"]["base/0"]["book_compute_fraction"][-1]
    side = ablation.BUDGETS["1/10"][1]["resize"]
    views = 10 * 10_000 * count_flops(resnet18(), (1, 1, side, side)) / book_flops()
    assert f"{trained + views:.3f} all told" in (ROOT / "README.md").read_text()


def _finals(saved, trick):
    """The final test accuracy of each of `trick`'s seeds in `saved`, lowest first."""
    return sorted(run["test_acc"][-1] for run in saved["runs"].values() if run["trick"] == trick)


def _stacked_on_its_copied_base(budget, unstacked_budget):
    """The saved runs at `budget` (stacked on the whitened stem) and at `unstacked_budget`,
    after checking the former's base seeds 0-2 are the latter's whitened runs, copied."""
    unstacked = ablation.load(ROOT / ablation.SAVED[unstacked_budget], missing_ok=False)
    stacked = ablation.load(ROOT / ablation.SAVED[budget], missing_ok=False,
                            base=ablation.BUDGETS[budget])
    for seed in (0, 1, 2):  # copied, not trained again: the same recipe, the same numbers
        copy, whitened = stacked["runs"][f"base/{seed}"], unstacked["runs"][f"whiten_stem/{seed}"]
        assert _what_trains(copy["recipe"]) == _what_trains(whitened["recipe"])
        assert copy["test_acc"] == whitened["test_acc"]
    return stacked, unstacked


def test_the_stacked_tables_base_is_the_whitened_runs_and_the_readme_says_what_it_shows():
    stacked, first = _stacked_on_its_copied_base("1/20+whiten", "1/20")
    rows = {row["trick"]: row for row in ablation.rows(stacked)}
    alone = rows.pop("base")
    drops = [alone["mean"] - row["mean"] for row in rows.values()]
    assert set(rows) == set(ablation.TRICKS) - {"base", "whiten_stem"}  # "each of the seven"
    assert all(0 < drop < alone["spread"] for drop in drops)
    readme = " ".join((ROOT / "README.md").read_text().split())  # wrapping aside
    assert f"({min(drops):.4f} to {max(drops):.4f})" in readme
    assert f"less than whitening's own seeds spread ({alone['spread']:.3f})" in readme
    # three tricks lost a seed far below every base seed on the Xavier stem; none does on the
    # whitened one
    def worst(saved, trick):
        return _finals(saved, trick)[0]
    fell = {t: worst(first, t) for t in ("no_decay_norm_bias", "lr_0.2_smoothing_0.2",
                                         "warmup_0.15")}
    assert all(acc < worst(first, "base") - 0.01 for acc in fell.values())
    assert all(worst(stacked, t) > worst(stacked, "base") - 0.004 for t in rows)
    assert "({:.3f} without weight decay on the normalisation parameters, {:.3f} with lr 0.2 and " \
           "smoothing 0.2, {:.3f} with the 15% warm-up)".format(*fell.values()) in readme


def test_the_tenths_stacked_table_is_on_the_whitened_tenth_and_the_readme_says_what_it_shows():
    stacked, _ = _stacked_on_its_copied_base("1/10+whiten", "1/10")
    rows = {row["trick"]: row for row in ablation.rows(stacked)}
    alone = rows.pop("base")
    flips, warmup = rows["alternate_flips"], rows["warmup_0.15"]
    readme = " ".join((ROOT / "README.md").read_text().split())
    drop, gain = alone["mean"] - flips["mean"], warmup["mean"] - alone["mean"]
    assert 0 < drop and abs(gain) < alone["spread"] / 10  # level: nothing kept
    assert warmup["seeds"] == alone["seeds"] == 5
    assert all(row["seeds"] >= 3 for row in rows.values())
    assert set(rows) == set(ablation.TRICKS) - {"base", "whiten_stem"}  # "the other five" too
    assert f"Alternating flips end {drop:.4f} lower" in readme
    assert f"ends level with whitening alone ({gain:+.4f}, far less than the seeds spread, " \
           f"{alone['spread']:.4f})" in readme
    with_flips = sorted(run["test_acc_flips"] for run in stacked["runs"].values()
                        if run["trick"] == "warmup_0.15")
    assert with_flips[0] < 0.92  # the three-seed hint (every seed at 0.92 with flips) fails
    assert f"with flips alone its seed 4 reads {with_flips[0]:.4f}" in readme
    assert "Every trick ends lower on average than whitening alone" in readme
    assert all(row["mean"] < alone["mean"] for row in rows.values())


def test_at_a_tenth_zero_initialised_branches_cost_the_most_the_others_stay_in_the_spread():
    stacked = ablation.load(ROOT / ablation.SAVED["1/10+whiten"], missing_ok=False,
                            base=ablation.BUDGETS["1/10+whiten"])
    rows = {row["trick"]: row for row in ablation.rows(stacked)}
    alone, zero = rows.pop("base"), rows["zero_init_residual"]
    readme = " ".join((ROOT / "README.md").read_text().split())

    def finals(trick):
        return _finals(stacked, trick)

    def mean_curve(trick):
        runs = [run for run in stacked["runs"].values() if run["trick"] == trick]
        return [sum(accs) / len(accs) for accs in zip(*(run["test_acc"] for run in runs))]

    # zero-initialised branches: the largest cost, beyond the spread, behind after every epoch,
    # every seed below every seed of whitening alone
    zero_drop = alone["mean"] - zero["mean"]
    assert zero_drop == max(alone["mean"] - row["mean"] for row in rows.values())
    assert zero_drop > alone["spread"]
    assert all(z < b for z, b in zip(mean_curve("zero_init_residual"), mean_curve("base")))
    assert finals("zero_init_residual")[-1] < finals("base")[0]
    assert f"Zero-initialised residual branches cost the most: {zero_drop:.4f} lower, more than " \
           f"that spread, behind on average after every epoch, and every seed " \
           f"({finals('zero_init_residual')[0]:.4f} to {finals('zero_init_residual')[-1]:.4f}) " \
           f"below every seed of whitening alone ({finals('base')[0]:.4f} to " \
           f"{finals('base')[-1]:.4f})" in readme
    twentieth = ablation.load(ROOT / ablation.SAVED["1/20+whiten"], missing_ok=False)
    at_twentieth = {row["trick"]: row for row in ablation.rows(twentieth)}
    zero_drop_at_20 = at_twentieth["base"]["mean"] - at_twentieth["zero_init_residual"]["mean"]
    assert zero_drop_at_20 < at_twentieth["base"]["spread"]  # "within the spread"
    assert f"at 1/20 it was {zero_drop_at_20:.4f} lower, within the spread" in readme
    others = [alone["mean"] - rows[t]["mean"] for t in rows
              if t not in ("zero_init_residual", "alternate_flips", "warmup_0.15")]
    assert all(0 < d < alone["spread"] for d in others)
    assert f"end {min(others):.4f} to {max(others):.4f} below whitening alone, within its " \
           f"spread" in readme
