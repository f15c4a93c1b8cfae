"""The positive class of a binary task: negative-looking names lose; where names cannot tell, say so."""
from __future__ import annotations

import pytest

from medgan.benchmark.config import looks_negative
from medgan.benchmark.protocol import positive_choice, resolve_positive
from medgan.errors import ConfigError


@pytest.mark.parametrize("name", ["noncovid", "non-covid", "non_covid", "Non-COVID", "CT_NonCOVID", "no_tumor",
                                  "no tumor", "notumor", "without_lesion", "without-hemorrhage", "not_infected",
                                  "normal", "Normal", "healthy", "healthy_controls", "covid_negative", "negative",
                                  "benign", "control", "no_finding", "No Finding", "none", "0"])
def test_negative_names(name):
    assert looks_negative(name)


@pytest.mark.parametrize("name", ["covid", "CT_COVID", "tumor", "nodule", "abnormal", "hemorrhage", "malignant",
                                  "lesion", "pneumonia", "1", "notch", "positive"])
def test_not_negative_names(name):
    assert not looks_negative(name)


@pytest.mark.parametrize("classes, positive", [
    (["covid", "noncovid"], "covid"), (["noncovid", "covid"], "covid"), (["CT_COVID", "CT_NonCOVID"], "CT_COVID"),
    (["no_tumor", "tumor"], "tumor"), (["glioma", "notumor"], "glioma"), (["hemorrhage", "normal"], "hemorrhage"),
    (["without_lesion", "lesion"], "lesion"), (["nodule", "normal"], "nodule"),
])
def test_the_class_beside_a_negative_is_positive(classes, positive):
    index, reason = positive_choice(classes, None)
    assert classes[index] == positive and resolve_positive(classes, None) == index
    assert reason.startswith(f"{positive} (the other class") and "--positive-class" in reason


@pytest.mark.parametrize("classes, why", [(["a", "b"], "neither looks negative"), (["normal", "healthy"], "both look negative")])
def test_undecidable_names_take_the_second_class_and_say_how_to_choose(classes, why):
    index, reason = positive_choice(classes, None)
    assert index == 1 and why in reason and "cannot tell" in reason
    assert f"--positive-class {classes[0]} or --positive-class {classes[1]}" in reason


def test_explicit_and_multiclass_choices():
    assert positive_choice(["covid", "noncovid"], "noncovid") == (1, "noncovid (chosen with --positive-class)")
    assert positive_choice(["a", "b", "c"], None)[0] is None
    with pytest.raises(ConfigError, match="not one of"):
        positive_choice(["a", "b"], "zzz")
    with pytest.raises(ConfigError, match="applies to binary tasks"):
        positive_choice(["a", "b", "c"], "a")
