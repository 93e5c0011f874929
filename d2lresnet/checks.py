"""The checks every function here applies to what a user passes, so that all of them accept
and refuse the same values with the same one-line message (in the i18n language)."""
from numbers import Integral

from . import i18n

__all__ = ["whole_number", "true_or_false"]


def whole_number(name, value, minimum=1, maximum=None):
    """``value`` as a plain int, or ValueError naming ``name`` unless it is a whole number from
    minimum to maximum (None: no upper bound). Python's and NumPy's integers pass; bools do not
    (True would quietly be one channel), nor floats, even 2.0 (a slider or a typo gives them)."""
    if (isinstance(value, bool) or not isinstance(value, Integral) or value < minimum
            or (maximum is not None and value > maximum)):
        if maximum is None:
            raise ValueError(i18n.tr("reason_whole_number", name=name, minimum=minimum,
                                     value=repr(value)))
        raise ValueError(i18n.tr("reason_whole_number_range", name=name, minimum=minimum,
                                 maximum=maximum, value=repr(value)))
    return int(value)


def true_or_false(name, value):
    """``value`` as a plain bool, or ValueError naming ``name``: "no" and 0.5 are truthy, so
    Python alone would quietly read them as True. 0 and 1 (and NumPy's bools) pass."""
    if value not in (True, False):
        raise ValueError(i18n.tr("reason_true_false", name=name, value=repr(value)))
    return bool(value)
