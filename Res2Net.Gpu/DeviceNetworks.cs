using System.Runtime.CompilerServices;
using ILGPU.Runtime;
using Res2Net.Gpu.Models;
using Res2Net.Runtime.Networks;

namespace Res2Net.Gpu;

/// <summary>
/// Puts a network on a device: <c>Res2NetModels.Create(name).OnDevice(Device.Cuda)</c>. The device forward is the one the
/// generator emitted for the network's spec (<c>X.Gpu.g.cs</c>); this library carries those of the repository's
/// networks, and a project that compiles its own specs and references ILGPU gets its own (pass it as <c>program</c>).
/// </summary>
public static class DeviceNetworks
{
    private static readonly ConditionalWeakTable<Accelerator, DeviceKernelCache> OwnAccelerators = new();

    /// <summary>Runs <paramref name="network"/>'s forwards on <paramref name="device"/> until the result is disposed.</summary>
    /// <param name="maxBatch">The largest batch a forward will take: the device arena holds that many images.</param>
    /// <param name="program">The network's generated device forward; default the one this library carries for its name.</param>
    /// <exception cref="DeviceUnavailableException">The device is not on this machine.</exception>
    /// <exception cref="InvalidOperationException">The network already runs on a device, or no device forward exists for it.</exception>
    public static DeviceNetwork OnDevice(this CompiledNetwork network, Device device, int maxBatch = 32, DeviceProgram? program = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        program ??= ProgramFor(network);
        return new DeviceNetwork(network, program, DeviceAccelerators.Get(device), maxBatch);
    }

    /// <summary>The same on an accelerator the caller made (and disposes); its kernels are cached with it.</summary>
    public static DeviceNetwork OnDevice(this CompiledNetwork network, Accelerator accelerator, int maxBatch = 32, DeviceProgram? program = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(accelerator);
        var device = accelerator.AcceleratorType switch
        {
            AcceleratorType.Cuda => Device.Cuda,
            AcceleratorType.CPU => Device.IlgpuCpu,
            var other => throw new ArgumentException($"{accelerator.Name} is an {other} accelerator; the device kernels are tuned for CUDA and ILGPU's CPU accelerator", nameof(accelerator)),
        };
        program ??= ProgramFor(network);
        var kernels = OwnAccelerators.GetValue(accelerator, a => new DeviceKernelCache(a, device));
        return new DeviceNetwork(network, program, kernels, maxBatch);
    }

    private static DeviceProgram ProgramFor(CompiledNetwork network) =>
        Res2NetDevicePrograms.Create(network.Info.Name) ?? throw new InvalidOperationException(
            $"no device forward was generated for '{network.Info.Name}' in Res2Net.Gpu (it carries: {string.Join(", ", Res2NetDevicePrograms.Names)}); " +
            "a project that compiles its own spec and references ILGPU gets one (ClassNameGpu): pass it as program");
}
