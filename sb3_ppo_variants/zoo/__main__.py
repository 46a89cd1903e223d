from sb3_ppo_variants.pipes import run_command_line
from sb3_ppo_variants.zoo.cli import main

run_command_line(main)
