import sys

from sb3_ppo_variants.pipes import run_command_line
from sb3_ppo_variants.upstream.cli import main

sys.exit(run_command_line(main))
