namespace Res2Net.Gpu.Kernels;

/// <summary>
/// How a conv's implicit GEMM is cut for one kind of accelerator, as compile-time constants: a group of
/// <see cref="ThreadsX"/> × <see cref="ThreadsY"/> threads computes a tile of <c>4·ThreadsY</c> output channels by
/// <c>4·ThreadsX</c> output columns (pixels of the whole batch), each thread a 4 × 4 block in registers, stepping
/// <see cref="DepthStep"/> inputs at a time through shared memory.
/// </summary>
public interface ITile
{
    int ThreadsX { get; }
    int ThreadsY { get; }
    int DepthStep { get; }
}

/// <summary>CUDA, convs of 64 or more output channels: 64 × 64 tiles, 256 threads.</summary>
public struct CudaWideTile : ITile
{
    public readonly int ThreadsX => 16;
    public readonly int ThreadsY => 16;
    public readonly int DepthStep => 8;
}

/// <summary>
/// CUDA, narrow convs (Res2Net's 3×3s on 14- or 26-channel splits, the stem): 16 channels × 256 columns, 256 threads,
/// so the batch's pixels rather than the few channels fill the GPU.
/// </summary>
public struct CudaNarrowTile : ITile
{
    public readonly int ThreadsX => 64;
    public readonly int ThreadsY => 4;
    public readonly int DepthStep => 8;
}

/// <summary>
/// ILGPU's CPU accelerator: one thread per group, so 4 output channels × 4 columns, 32 inputs per step. There a group's
/// threads are operating-system threads and each <c>Group.Barrier</c> is three <see cref="System.Threading.Barrier"/>
/// waits among them: with the 16-thread 16 × 16 tile (two barriers per 8 inputs) a full-size forward spent nearly all
/// its time switching threads on 2 cores (0.008 GMAC/s on a 1×1 conv, 2026-12-01), while a one-thread group's barriers
/// never wait (0.1–0.2 GMAC/s, the speed of the kernel's own loads and multiply-adds). The kernel code is the same as on
/// CUDA; only these constants differ.
/// </summary>
public struct CpuTile : ITile
{
    public readonly int ThreadsX => 1;
    public readonly int ThreadsY => 1;
    public readonly int DepthStep => 32;
}
