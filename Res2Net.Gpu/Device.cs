namespace Res2Net.Gpu;

/// <summary>Where a network's forward runs besides the CPU code of <c>Res2Net.Models</c>.</summary>
public enum Device
{
    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend (PTX it writes itself, loaded through the driver's libcuda).</summary>
    Cuda,

    /// <summary>
    /// ILGPU's CPU accelerator: the same kernels run by ILGPU's emulator on the CPU's cores. Slow, but exact and
    /// available everywhere, so tests and machines without a GPU check the device path.
    /// </summary>
    IlgpuCpu,
}
