using Res2Net.Gpu;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Puts a command's network on the device <c>--device</c> names: the network's own forward then runs there, so the
/// command's code does not change. Kernels are compiled here, once per process, and what that cost is said on stderr.
/// </summary>
internal static class DeviceChoice
{
    /// <summary>The device network to dispose at the end of the command; null for the CPU.</summary>
    /// <exception cref="CliException">The device is not on this machine (exit 2, with what ILGPU found).</exception>
    public static DeviceNetwork? Use(CompiledNetwork network, string device, int maxBatch, TextWriter stderr)
    {
        Device? target = device switch
        {
            "cpu" => null,
            "cuda" => Device.Cuda,
            "ilgpu-cpu" => Device.IlgpuCpu,
            _ => throw new CliException($"--device {device}: expected cpu, cuda or ilgpu-cpu."),
        };
        if (target == null) return null;
        try
        {
            var onDevice = network.OnDevice(target.Value, maxBatch);
            stderr.WriteLine($"res2net: {DisplayText.Escape(network.Info.Name)} on {DisplayText.Escape(onDevice.Description)}: " +
                             $"{onDevice.KernelsCompiled} kernels compiled in {onDevice.FirstCallCost.TotalSeconds:0.00} s (once per process).");
            return onDevice;
        }
        catch (DeviceUnavailableException e)
        {
            throw new CliException("--device " + device + ": " + e.Message);
        }
    }
}
