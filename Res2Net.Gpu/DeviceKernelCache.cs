using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using Res2Net.Gpu.Kernels;

namespace Res2Net.Gpu;

/// <summary>
/// An accelerator and the kernels loaded on it, each specialization (a conv signature and tile, a pool shape) compiled
/// the first time a network asks for it and kept for the life of the process. <see cref="CompileTime"/> adds up what
/// that cost, which is what a first forward pays.
/// </summary>
public sealed class DeviceKernelCache
{
    private readonly Dictionary<Type, Delegate> _kernels = new();
    private long _compileTicks;

    internal DeviceKernelCache(Accelerator accelerator, Device device)
    {
        Accelerator = accelerator;
        Device = device;
    }

    public Accelerator Accelerator { get; }

    public Device Device { get; }

    /// <summary>Whether the CUDA tile configurations run here (else the CPU accelerator's 16-thread ones).</summary>
    public bool IsCuda => Device == Device.Cuda;

    /// <summary>Time spent compiling kernels on this accelerator so far.</summary>
    public TimeSpan CompileTime => TimeSpan.FromTicks(Interlocked.Read(ref _compileTicks));

    /// <summary>Kernels compiled so far.</summary>
    public int Count
    {
        get { lock (_kernels) return _kernels.Count; }
    }

    /// <summary>For messages: <c>cuda (NVIDIA H200)</c>.</summary>
    public string Description => $"{(IsCuda ? "cuda" : "ilgpu-cpu")} ({Accelerator.Name})";

    internal Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvOperands> Conv<TShape, TTile>()
        where TShape : struct, IConvShape where TTile : struct, ITile =>
        Get<ConvKey<TShape, TTile>, Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvOperands>>(() =>
        {
            TTile tile = default;
            int threads = tile.ThreadsX * tile.ThreadsY;
            if (threads > Accelerator.MaxNumThreadsPerGroup)
            {
                throw new InvalidOperationException(
                    $"{typeof(TTile).Name} needs {threads} threads per group; {Accelerator.Name} allows {Accelerator.MaxNumThreadsPerGroup}");
            }
            return Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvOperands>(ConvKernel.Run<TShape, TTile>);
        });

    internal Action<AcceleratorStream, Index1D, ArrayView<float>, ConvOperands> Pool<TShape>() where TShape : struct, IPoolShape =>
        Get<PoolKey<TShape>, Action<AcceleratorStream, Index1D, ArrayView<float>, ConvOperands>>(() =>
            Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ConvOperands>(PoolKernel.Run<TShape>));

    internal Action<AcceleratorStream, Index1D, ArrayView<float>, int, int, ConvOperands> GlobalAverage() =>
        Get<HeadKey, Action<AcceleratorStream, Index1D, ArrayView<float>, int, int, ConvOperands>>(() =>
            Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, int, int, ConvOperands>(HeadKernels.GlobalAverage));

    internal Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ConvOperands> Linear() =>
        Get<HeadKey, Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ConvOperands>>(() =>
            Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ConvOperands>(HeadKernels.Linear));

    internal Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int> CopyOut() =>
        Get<HeadKey, Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int>>(() =>
            Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(HeadKernels.CopyOut));

    /// <summary>The kernel for <typeparamref name="TKey"/> and delegate type, compiled on first request.</summary>
    private TKernel Get<TKey, TKernel>(Func<TKernel> load) where TKernel : Delegate
    {
        var key = typeof((TKey, TKernel));
        lock (_kernels)
        {
            if (_kernels.TryGetValue(key, out var kernel)) return (TKernel)kernel;
            long start = Stopwatch.GetTimestamp();
            var loaded = load();
            Interlocked.Add(ref _compileTicks, Stopwatch.GetElapsedTime(start).Ticks);
            _kernels[key] = loaded;
            return loaded;
        }
    }

    private struct ConvKey<TShape, TTile>;

    private struct PoolKey<TShape>;

    private struct HeadKey;
}
