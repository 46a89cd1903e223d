"""Drop-in, checked by upstream's own tests: stable-baselines3's and sb3-contrib's test suites run with each of our
classes in place of the stock algorithm it mirrors (``python -m sb3_ppo_variants.upstream``, see
:mod:`~sb3_ppo_variants.upstream.cli`). Needs the ``upstream`` extra (pytest and the libraries SB3's tests import)."""
