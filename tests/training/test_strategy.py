import pytest
import tensorflow as tf

from tfgen.training import get_strategy


def test_auto_and_default_on_a_cpu_machine():
  assert get_strategy("auto") is tf.distribute.get_strategy()
  assert get_strategy("default").num_replicas_in_sync == 1


def test_bad_names_and_missing_tf_config(monkeypatch):
  with pytest.raises(ValueError, match="one of"):
    get_strategy("tpu")
  monkeypatch.delenv("TF_CONFIG", raising=False)
  with pytest.raises(ValueError, match="TF_CONFIG"):
    get_strategy("multiworker")
  monkeypatch.setenv("TF_CONFIG", "{not json")
  with pytest.raises(ValueError, match="TF_CONFIG"):
    get_strategy("multiworker")
