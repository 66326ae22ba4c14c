#!/usr/bin/env python3
"""A command sink that sets the weights on chain with the bittensor SDK (the version GAS pins).

    pip install bittensor==10.4.0
    weights:
      sinks:
        - kind: command
          command: [python3, ../examples/sinks/set_weights_bittensor.py, --wallet.name, default, --wallet.hotkey, default,
                    --network, finney]
          timeout: 120s

The vector arrives already processed (bittensor process_weights, max-upscaled to u16 with zeros
dropped); it is passed on as w / 65535, which the SDK's own conversion max-upscales back to the
same u16 values.
Exit status 0 only when the extrinsic was accepted; the validator retries failures with backoff.
"""
import argparse
import json
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--wallet.name", dest="wallet_name", default="default")
parser.add_argument("--wallet.hotkey", dest="wallet_hotkey", default="default")
parser.add_argument("--network", default="finney")
args = parser.parse_args()

payload = json.load(sys.stdin)
import bittensor as bt  # noqa: E402  (imported late: the JSON is validated first)

wallet = bt.Wallet(name=args.wallet_name, hotkey=args.wallet_hotkey)
subtensor = bt.Subtensor(network=args.network)
result = subtensor.set_weights(
    wallet=wallet,
    netuid=payload["netuid"],
    uids=payload["uids"],
    weights=[w / 65535 for w in payload["weights"]],
    version_key=payload["version_key"],
    wait_for_inclusion=True,
    wait_for_finalization=False,
)
ok = result[0] if isinstance(result, tuple) else bool(getattr(result, "success", result))
print(f"set_weights at block {payload['block']}: {result}")
sys.exit(0 if ok else 1)
