import sys

from sb3_ppo_variants.upstream.cli import main

sys.exit(main())
