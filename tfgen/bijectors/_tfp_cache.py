"""The one place tfgen touches TFP's private bijector cache.

TFP offers no public way for a bijector to hand its log-det to the cache in
the same pass that computes its output; its own bijectors do it through
``tensorflow_probability.python.internal.cache_util``. tfgen uses that too,
only here. ``tests/bijectors/test_one_pass.py`` counts conditioner calls per
``log_prob``, so a TFP upgrade that breaks this fails the tests instead of
silently doubling the cost.

tfgen adds one thing: a switch. The cache keys on tensor identity, which is
unsafe in eager mode for bijectors whose variables change (the same input
tensor would return the output computed from the old values). So lookups go
through the cache only while ``enabled()`` says so, and :func:`forget` drops
every entry.
"""

from tensorflow_probability.python.internal import cache_util

_STORAGE = [cache_util.EphemeralDict()]


def forget():
  """Drops every cached tfgen bijector result (entries die with the old dict)."""
  _STORAGE[0] = cache_util.EphemeralDict()


def _scoped(base):
  class Scoped(base):
    """``base`` that caches only while ``self._enabled()``; otherwise each
    call computes afresh and attributes start empty."""

    _enabled = None

    @property
    def storage(self):
      return _STORAGE[0]

    @storage.setter
    def storage(self, value):  # BijectorCache.__init__ assigns one; ours is global
      pass

    def __get__(self, bijector, bijector_class=None):
      bound = super().__get__(bijector, bijector_class)
      bound._enabled = self._enabled
      return bound

    def _lookup(self, input, forward_name, inverse_name, **kwargs):  # pylint: disable=redefined-builtin
      if self._enabled():
        return super()._lookup(input, forward_name, inverse_name, **kwargs)
      if input is None:
        raise ValueError("Input must not be None.")
      return self._invoke(input, forward_name, kwargs, {})

    def _attributes(self, input, fn_name, **kwargs):  # pylint: disable=redefined-builtin
      if self._enabled():
        return super()._attributes(input, fn_name, **kwargs)
      return {}

  return Scoped


_Plain = _scoped(cache_util.BijectorCache)
_Greedy = _scoped(cache_util.BijectorCacheWithGreedyAttrs)


def scoped_cache(enabled, greedy=False, **names):
  """A class-level bijector cache that is live only while ``enabled()``.

  ``greedy=True`` gives TFP's greedy-attribute cache, whose ``_forward`` /
  ``_inverse`` (named by ``forward_name`` / ``inverse_name``) return
  ``(output, attributes)``.
  """
  cache = (_Greedy if greedy else _Plain)(**names)
  cache._enabled = enabled
  return cache
