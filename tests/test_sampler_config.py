"""The madnis card: defaults, reading, unknown keys."""

from pathlib import Path

import pytest

from madnis_plugin.sampler.config import (MadnisConfig, UnknownCardKeys, format_madnis_card,
                                          parse_madnis_card, read_madnis_card)

SHIPPED_CARD = Path(__file__).resolve().parents[1] / "cards" / "madnis_card.dat"


def test_shipped_card_holds_exactly_the_defaults():
    assert read_madnis_card(SHIPPED_CARD) == MadnisConfig()


def test_issue_defaults():
    cfg = MadnisConfig()
    assert (cfg.train_batches, cfg.batch_size, cfg.buffer_capacity, cfg.buffered_fraction,
            cfg.drop_threshold, cfg.drop_interval, cfg.vegas_bins) == (1000, 1024, 60000, 0.8, 0.01, 100, 64)
    assert cfg.loss == "variance" and cfg.dtype == "float32"


def test_every_key_is_documented_in_the_card():
    text = format_madnis_card()
    for key in MadnisConfig().to_dict():
        line = next(l for l in text.splitlines() if f"= {key} " in l)
        assert "!" in line and len(line.split("!", 1)[1].strip()) > 10


def test_card_values_are_typed_and_comments_ignored():
    cfg = parse_madnis_card("# a comment\n  2000 = train_batches ! more\n kl = loss\n False = learn_channel_weights\n"
                            " 1e-4 = learning_rate\n 2e3 = buffer_capacity")
    assert cfg.train_batches == 2000 and cfg.loss == "kl" and cfg.learn_channel_weights is False
    assert cfg.learning_rate == 1e-4 and cfg.buffer_capacity == 2000


def test_unknown_keys_are_reported_by_name():
    with pytest.raises(UnknownCardKeys) as info:
        parse_madnis_card("10 = train_batchs\n 5 = vegas_bins\n 1 = nonsense")
    assert info.value.keys == ["train_batchs", "nonsense"]
    assert "train_batchs" in str(info.value)


def test_replace_rejects_unknown_names():
    with pytest.raises(UnknownCardKeys):
        MadnisConfig().replace(batchsize=10)
