using ILGPU;
using ILGPU.Runtime.CPU;
using Res2Net.Gpu;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Gpu;

/// <summary>Bad use of a device network gets an error that says what was wrong, never a crash or a wrong result.</summary>
public class DeviceMisuseTests
{
    [Fact]
    public void BatchLargerThanPlannedIsRefused()
    {
        var network = DeviceForwardTests.Loaded("tiny-plain");
        using var device = network.OnDevice(Device.IlgpuCpu, maxBatch: 1, DeviceForwardTests.ProgramFor("tiny-plain"));
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(input, 2));
        Assert.Contains("batch 2 is larger than the 1 images", e.Message);
        Assert.Contains("maxBatch", e.Message);
    }

    [Fact]
    public void DisposedAcceleratorIsNamed()
    {
        var network = DeviceForwardTests.Loaded("tiny-plain");
        using var context = Context.Create(b => b.CPU());
        var accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
        var device = network.OnDevice(accelerator, maxBatch: 2, DeviceForwardTests.ProgramFor("tiny-plain"));
        accelerator.Dispose();
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        var e = Assert.Throws<ObjectDisposedException>(() => network.Forward(input, 2));
        Assert.Contains("was disposed", e.Message);
        Assert.Contains("cannot outlive the accelerator", e.Message);
        device.Dispose();
        Assert.Null(network.Backend); // and the network runs on the CPU again
        Assert.Equal(2 * network.Info.NumClasses, network.Forward(input, 2).Length);
    }

    [Fact]
    public void DisposedDeviceNetworkIsNamed()
    {
        var network = DeviceForwardTests.Loaded("tiny-plain");
        var device = network.OnDevice(Device.IlgpuCpu, maxBatch: 2, DeviceForwardTests.ProgramFor("tiny-plain"));
        device.Dispose();
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        var e = Assert.Throws<ObjectDisposedException>(() => device.Forward(input, 2, new float[2 * network.Info.NumClasses]));
        Assert.Contains("was disposed", e.Message);
    }

    [Fact]
    public void ANetworkRunsOnOneDeviceAtATime()
    {
        var network = DeviceForwardTests.Loaded("tiny-plain");
        using var first = network.OnDevice(Device.IlgpuCpu, maxBatch: 2, DeviceForwardTests.ProgramFor("tiny-plain"));
        using var context = Context.Create(b => b.CPU());
        using var accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
        var e = Assert.Throws<InvalidOperationException>(() => network.OnDevice(accelerator, 2, DeviceForwardTests.ProgramFor("tiny-plain")));
        Assert.Contains("already runs on ilgpu-cpu", e.Message);
        Assert.Contains("dispose that device network", e.Message);
    }

    [Fact]
    public void AnotherNetworksProgramIsRefused()
    {
        var network = DeviceForwardTests.Loaded("tiny-plain");
        var e = Assert.Throws<ArgumentException>(() => network.OnDevice(Device.IlgpuCpu, 2, DeviceForwardTests.ProgramFor("tiny-deep")));
        Assert.Contains("generated for 'tiny-deep', not for 'tiny-plain'", e.Message);
        Assert.Null(network.Backend);
    }

    [Fact]
    public void CudaAbsentSaysWhatWasFound()
    {
        // Meaningful only where there is no CUDA device (CI); on a GPU machine the device check covers CUDA.
        if (DeviceAccelerators.Found().Contains("(Cuda)", StringComparison.Ordinal)) return;
        var network = DeviceForwardTests.Loaded("tiny-plain");
        var e = Assert.Throws<DeviceUnavailableException>(() => network.OnDevice(Device.Cuda, 2, DeviceForwardTests.ProgramFor("tiny-plain")));
        Assert.Contains("no CUDA device", e.Message);
        Assert.Contains("it found: CPUAccelerator", e.Message);
    }
}
