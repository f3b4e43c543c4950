using Res2Net.Gpu;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Forward;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Gpu;

/// <summary>
/// The generated device forwards (TinyPlainGpu, TinyDeepGpu: X.Gpu.g.cs of this project's specs) on ILGPU's CPU
/// accelerator, against the logits and stage outputs PyTorch computed, within the CPU path's tolerances. CI has no GPU;
/// the CUDA run is tools/gpu/device-check.sh.
/// </summary>
public class DeviceForwardTests
{
    public static TheoryData<string> Networks => new() { "tiny-plain", "tiny-deep" };

    internal static CompiledNetwork Loaded(string name)
    {
        var network = Res2NetModels.Create(name);
        network.Load(Fixtures.Path(name + ".pth"));
        return network;
    }

    internal static DeviceProgram ProgramFor(string name) => Res2NetDevicePrograms.Create(name) ?? throw new InvalidOperationException(name);

    [Theory]
    [MemberData(nameof(Networks))]
    public void LogitsAndStagesEqualPyTorchOnIlgpusCpuAccelerator(string name)
    {
        var network = Loaded(name);
        using var device = network.OnDevice(Device.IlgpuCpu, maxBatch: 2, ProgramFor(name));
        var (input, _) = Fixtures.Npy(name + ".input.npy");
        var features = new FeatureCapture(0, 1, 2, 3, 4);
        var logits = new float[2 * network.Info.NumClasses];

        device.Forward(input, 2, logits, features);

        var (expected, _) = Fixtures.Npy(name + ".logits.npy");
        var (diff, _) = Fixtures.Compare(logits, expected);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2} > {Tolerances.LogitsAbsolute:E0}");
        string[] files = { "stem", "stage1", "stage2", "stage3", "stage4" };
        for (int i = 0; i <= 4; i++)
        {
            var (stage, stageShape) = Fixtures.Npy($"{name}.{files[i]}.npy");
            var (actual, shape) = features[i];
            Assert.Equal(stageShape, shape);
            var (d, scale) = Fixtures.Compare(actual, stage);
            Assert.True(d <= Tolerances.StageRelative * scale, $"{files[i]}: max |diff| = {d:E2} > {Tolerances.StageRelative:E0} × {scale:F3}");
        }
    }

    [Fact]
    public void NetworkForwardRunsOnTheDeviceUntilDisposedThenOnTheCpuAgain()
    {
        var network = Loaded("tiny-deep");
        var (input, _) = Fixtures.Npy("tiny-deep.input.npy");
        var cpu = network.Forward(input, 2);
        float[] onDevice;
        using (var device = network.OnDevice(Device.IlgpuCpu, maxBatch: 2, ProgramFor("tiny-deep")))
        {
            Assert.Same(device, network.Backend);
            onDevice = network.Forward(input, 2);
        }
        Assert.Null(network.Backend);
        Assert.Equal(cpu, network.Forward(input, 2));
        // Two engines, one plan: their sums differ in order only.
        var (diff, _) = Fixtures.Compare(onDevice, cpu);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"device vs CPU: {diff:E2}");
        Assert.NotEqual(cpu, onDevice); // it did run elsewhere: a GEMM of other blocking does not round identically
    }

    [Fact]
    public void ReloadingWeightsUploadsThemAgain()
    {
        var network = Loaded("tiny-plain");
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        using var device = network.OnDevice(Device.IlgpuCpu, maxBatch: 2, ProgramFor("tiny-plain"));
        var before = network.Forward(input, 2);

        network.Load(Res2Net.Runtime.Binding.SeededWeights.StateDict(network.Info), "seeded");
        var after = network.Forward(input, 2);

        var cpu = Res2NetModels.Create("tiny-plain");
        cpu.Load(Res2Net.Runtime.Binding.SeededWeights.StateDict(cpu.Info), "seeded");
        var (diff, _) = Fixtures.Compare(after, cpu.Forward(input, 2));
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"device after reload vs CPU: {diff:E2}");
        Assert.NotEqual(before, after);
    }
}
