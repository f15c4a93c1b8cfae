"""The experiment behind docs/results/quick_preset.md: python quick_experiment.py MODEL SIZE STEPS [JSON TrainConfig fields]."""
import sys, time, torch, json
torch.set_num_threads(1)
from medgan.data import load_data, prepare_tensors
from medgan.training import TrainConfig, train
from medgan.synthesis import load_generator
from medgan.cli.evaluate import split_real
from medgan.evaluation import evaluate_quality
model, size, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
d = prepare_tensors(load_data("phantom"), image_size=size)
out = f"/tmp/qx/{model}_{size}_{steps}_{abs(hash(sys.argv[4] if len(sys.argv)>4 else ''))%1000}"
t0 = time.process_time()
train(TrainConfig(model=model, image_size=size, steps=steps, device="cpu", holdout_fraction=0.5, sample_every=0, checkpoint_every=0, **extra), d, out, progress=False)
cpu = time.process_time() - t0
s = load_generator(out)
tr, ho, _ = split_real(d, s.meta)
syn = torch.cat([s.sample_class(c, 40) for c in range(3)]); y = torch.arange(3).repeat_interleave(40)
r = evaluate_quality(tr, ho, syn, y, fast=True, figures=True, out_dir=out + "/q", umap=False)
o = r["overall"]
print(model, size, steps, extra, f"cpu {cpu:.0f}s", "P %.2f R %.2f cov %.2f" % (o["fidelity"]["precision"], o["fidelity"]["recall"], o["fidelity"]["coverage"]), "tstr %.2f leak %.2f" % (o["tstr_ratio"] or 0, o["class_leak"] or 0), flush=True)
