"""PyTorch (timm) on the same GPU and architectures as the device check, random weights, as the issue asks:
true fp32 (cudnn.benchmark, TF32 off for convolutions and matmuls), then PyTorch's default (TF32) and channels-last
bf16 autocast as context. Prints images/s at batch 1, 32 and 128 and batch-1 latency."""
import time

import timm
import torch

MODELS = ["res2net50_14w_8s", "res2net50_26w_8s", "res2net101_26w_4s"]
BATCHES = [1, 32, 128]


def measure(model, batch, channels_last=False, bf16=False, runs=20):
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
        for _ in range(3):
            model(x)
        torch.cuda.synchronize()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    return median * 1e3, batch / median


def main():
    torch.backends.cudnn.benchmark = True
    print(f"torch {torch.__version__}, timm {timm.__version__}, {torch.cuda.get_device_name()}")
    for name in MODELS:
        model = timm.create_model(name, pretrained=False).cuda().eval()
        for mode in ("fp32 (TF32 off)", "default (TF32)", "channels-last bf16"):
            tf32 = mode != "fp32 (TF32 off)"
            torch.backends.cudnn.allow_tf32 = tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32
            m = model.to(memory_format=torch.channels_last) if mode == "channels-last bf16" else model
            for batch in BATCHES:
                ms, ips = measure(m, batch, channels_last=mode == "channels-last bf16", bf16=mode == "channels-last bf16")
                print(f"timm {name} {mode:20s} batch {batch:4d}: {ms:8.2f} ms/batch {ips:9.1f} images/s")


if __name__ == "__main__":
    main()
