namespace Res2Net.Generator.Lowering.Gpu
{
    /// <summary>
    /// The tile configurations of the device conv kernel, by the names of their structs in <c>Res2Net.Gpu.Kernels</c> (a
    /// test checks they exist). Threads per group: CUDA 256, ILGPU's CPU accelerator at most 16.
    /// </summary>
    internal enum GpuTile
    {
        /// <summary>64 output channels × 64 columns.</summary>
        CudaWideTile,

        /// <summary>16 output channels × 256 columns, for convs of fewer than 64 output channels (the splits' 3×3s, the stem).</summary>
        CudaNarrowTile,

        /// <summary>16 × 16, 16 threads.</summary>
        CpuTile,
    }
}
