"""One torchrun rank for test_distributed: fit, then save this rank's final weights."""

import os
import sys

from safetensors.torch import save_file

from training.config import load_config
from training.loop import fit

config, out = sys.argv[1], sys.argv[2]
result = fit(load_config(config))
save_file(
    {k: v.contiguous() for k, v in result.network.state_dict().items()}, f"{out}/rank{os.environ['RANK']}.safetensors"
)
