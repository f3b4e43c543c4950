using ILGPU;
using ILGPU.Runtime;
using Res2Net.Gpu.Kernels;

namespace Res2Net.Gpu;

/// <summary>
/// One forward on a device, as the generated <see cref="DeviceProgram.Run"/> sees it: each call launches one kernel on
/// the network's one stream, in order, with the batch and the arena offsets the generator planned; nothing waits until
/// the caller synchronizes. A run made only to compile (<see cref="CompileOnly"/>) loads every kernel and launches none.
/// </summary>
public sealed class DeviceRun
{
    internal DeviceKernelCache Kernels = null!;
    internal AcceleratorStream Stream = null!;
    internal ArrayView<float> Input, Arena, Weights, Logits;
    internal Func<int, ArrayView<float>>? TapTarget;
    internal int Batch, ImageFloats, InputImage;

    /// <summary>When set, every launch is waited for and timed (<see cref="DeviceNetwork.Profile"/>).</summary>
    internal DeviceProfile? Profile;

    /// <summary>True while kernels are only being compiled (the warm-up that measures the first-call cost).</summary>
    public bool CompileOnly { get; internal set; }

    /// <summary>
    /// A fused conv: <typeparamref name="TCuda"/>'s tiles on CUDA, <typeparamref name="TCpu"/>'s on the CPU accelerator;
    /// <paramref name="source"/> is an arena offset, or an offset in the caller's images when <paramref name="fromImage"/>.
    /// </summary>
    public void Conv<TShape, TCuda, TCpu>(int source, bool fromImage, int second, int tail, int destination, int residual, int weights, int bias)
        where TShape : struct, IConvShape where TCuda : struct, ITile where TCpu : struct, ITile
    {
        var o = new ConvOperands
        {
            Batch = Batch, ImageFloats = ImageFloats, Source = source, SourceImage = fromImage ? InputImage : ImageFloats,
            Second = second, Tail = tail, Destination = destination, Residual = residual, Weights = weights, Bias = bias,
        };
        var from = fromImage ? Input : Arena;
        if (Kernels.IsCuda) Launch<TShape, TCuda>(from, o);
        else Launch<TShape, TCpu>(from, o);
    }

    private void Launch<TShape, TTile>(ArrayView<float> from, ConvOperands o) where TShape : struct, IConvShape where TTile : struct, ITile
    {
        var kernel = Kernels.Conv<TShape, TTile>();
        if (CompileOnly) return;
        TTile tile = default;
        var (x, y) = ConvKernel.Groups<TShape, TTile>(Batch);
        kernel(Stream, new KernelConfig(new Index2D(x, y), new Index2D(tile.ThreadsX * tile.ThreadsY, 1)), from, Arena, Weights, o);
        if (Profile != null)
        {
            TShape s = default;
            int depth = s.InChannels * s.Kernel * s.Kernel;
            long macs = (long)Batch * s.OutChannels * s.OutHeight * s.OutWidth * depth;
            int steps = (depth + tile.DepthStep - 1) / tile.DepthStep;
            Profile.Record(Stream, typeof(TShape).Name + " " + typeof(TTile).Name, (long)x * y, tile.ThreadsX * tile.ThreadsY, 2L * steps, macs);
        }
    }

    /// <summary>A max or average pool from one arena offset to another.</summary>
    public void Pool<TShape>(int source, int destination) where TShape : struct, IPoolShape
    {
        var kernel = Kernels.Pool<TShape>();
        if (CompileOnly) return;
        kernel(Stream, PoolKernel.Elements<TShape>(Batch), Arena, new ConvOperands { ImageFloats = ImageFloats, Source = source, Destination = destination });
        Profile?.Record(Stream, typeof(TShape).Name, 0, 0, 0, 0);
    }

    /// <summary>The neck's global average pool.</summary>
    public void GlobalAverage(int channels, int pixels, int source, int destination)
    {
        var kernel = Kernels.GlobalAverage();
        if (CompileOnly) return;
        kernel(Stream, Batch * channels, Arena, channels, pixels, new ConvOperands { ImageFloats = ImageFloats, Source = source, Destination = destination });
        Profile?.Record(Stream, "GlobalAverage", 0, 0, 0, 0);
    }

    /// <summary>The head's Linear into the logits buffer.</summary>
    public void Linear(int inFeatures, int outFeatures, int source, int weights, int bias)
    {
        var kernel = Kernels.Linear();
        if (CompileOnly) return;
        kernel(Stream, Batch * outFeatures, Arena, Weights, Logits, inFeatures, outFeatures,
            new ConvOperands { ImageFloats = ImageFloats, Source = source, Weights = weights, Bias = bias });
        Profile?.Record(Stream, "Linear", 0, 0, 0, (long)Batch * inFeatures * outFeatures);
    }

    /// <summary>Stage output <paramref name="index"/> (0 stem … 4 layer4), if requested, copied out before its memory is reused.</summary>
    public void Tap(int index, int offset, int elements)
    {
        var kernel = Kernels.CopyOut();
        if (CompileOnly || TapTarget == null) return;
        var target = TapTarget(index);
        if (target.Length == 0) return;
        kernel(Stream, Batch * elements, Arena, target, elements, ImageFloats, offset);
        Profile?.Record(Stream, "CopyOut", 0, 0, 0, 0);
    }
}
