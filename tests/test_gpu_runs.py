"""tools/gpu_runs.py: the table of compute to accuracy read from a saved recipes JSON."""
from tools.gpu_runs import compute_to, format_table


def run(accs, compute):
    return dict(test_acc=accs, book_compute_fraction=compute, test_acc_flips=[])


def test_compute_to_is_the_first_epoch_that_reaches_the_target():
    r = run([0.85, 0.91, 0.90, 0.93], [0.1, 0.2, 0.3, 0.4])
    assert compute_to(r, 0.90) == 0.2  # the first, not a later dip back
    assert compute_to(r, 0.93) == 0.4
    assert compute_to(r, 0.94) is None


def test_table_takes_the_worst_seed_and_marks_targets_not_reached_on_every_seed():
    saved = dict(runs={"quick/0": run([0.91, 0.93], [0.07, 0.148]),
                       "quick/1": run([0.89, 0.925], [0.07, 0.148]),
                       "book/0": run([0.88], [1.0])})
    header, rule, *rows = format_table(saved).splitlines()
    assert header.split("|")[1:-1] == [" recipe ", " seeds ", " test acc ", " with flips ",
                                       " compute ", " to 0.90 ", " to 0.92 ", " to 0.94 "]
    assert rows == ["| `book` | 1 | 0.880–0.880 | – | 1.000 | – | – | – |",
                    "| `quick` | 2 | 0.925–0.930 | – | 0.148 | 0.148 | 0.148 | – |"]
