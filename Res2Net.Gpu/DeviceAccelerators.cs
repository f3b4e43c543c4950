using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Res2Net.Gpu;

/// <summary>
/// One ILGPU context and at most one accelerator per <see cref="Device"/> for the whole process, so that each kernel is
/// compiled once per process however many networks run (<see cref="DeviceKernelCache"/> keeps them per accelerator).
/// They live until the process ends.
/// </summary>
public static class DeviceAccelerators
{
    private static readonly object Gate = new();
    private static Context? s_context;
    private static readonly Dictionary<Device, DeviceKernelCache> Caches = new();

    /// <summary>
    /// The CPU accelerator's geometry: warps of 4 and groups of at most 16 threads (the limits of ILGPU's default CPU
    /// device, which the <c>CpuTile</c> kernels are cut for), and one multiprocessor per core so groups run side by side.
    /// </summary>
    internal static CPUDevice CpuDevice => new(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 4, numMultiprocessors: Math.Max(1, Environment.ProcessorCount));

    /// <summary>The accelerator for <paramref name="device"/> and its kernel cache, made on first use.</summary>
    /// <exception cref="DeviceUnavailableException">No such device here (CUDA asked for on a machine without one).</exception>
    public static DeviceKernelCache Get(Device device)
    {
        lock (Gate)
        {
            if (Caches.TryGetValue(device, out var cache)) return cache;
            var context = s_context ??= Context.Create(builder => builder.CPU(CpuDevice).Cuda().Optimize(OptimizationLevel.O2));
            Accelerator accelerator = device switch
            {
                Device.Cuda => Cuda(context).CreateAccelerator(context),
                Device.IlgpuCpu => context.GetCPUDevice(0).CreateAccelerator(context),
                _ => throw new ArgumentOutOfRangeException(nameof(device), device, "unknown device"),
            };
            cache = new DeviceKernelCache(accelerator, device);
            Caches[device] = cache;
            return cache;
        }
    }

    /// <summary>What ILGPU sees on this machine, for messages: <c>CPUAccelerator (CPU)</c>, …</summary>
    public static string Found()
    {
        lock (Gate)
        {
            var context = s_context ??= Context.Create(builder => builder.CPU(CpuDevice).Cuda().Optimize(OptimizationLevel.O2));
            return string.Join(", ", context.Devices.Select(d => $"{d.Name} ({d.AcceleratorType})"));
        }
    }

    private static CudaDevice Cuda(Context context)
    {
        var devices = context.GetCudaDevices();
        if (devices.Count > 0) return devices[0];
        throw new DeviceUnavailableException(
            "CUDA was asked for, but ILGPU found no CUDA device on this machine (it found: " +
            string.Join(", ", context.Devices.Select(d => $"{d.Name} ({d.AcceleratorType})")) +
            "). A CUDA device needs an NVIDIA GPU and its driver (libcuda.so); use --device cpu, or --device ilgpu-cpu to run the device kernels on the CPU.");
    }
}
