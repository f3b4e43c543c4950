using Microsoft.CodeAnalysis;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>
/// The device forward (X.Gpu.g.cs) is emitted only into compilations that reference ILGPU, compiles there, and names only
/// tile configurations the runtime has.
/// </summary>
public class DeviceEmissionTests
{
    private static (string Path, string Json) Spec(string name) =>
        ("networks/" + name + ".json", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "networks", name + ".json")));

    [Fact]
    public void WithoutIlgpuNoDeviceFileIsEmitted()
    {
        var (result, _) = GeneratorRunner.Compile(Spec("res2net50-w14-s8"));
        Assert.DoesNotContain(result.GeneratedTrees, t => t.FilePath.EndsWith(".Gpu.g.cs", StringComparison.Ordinal));
        Assert.Contains(result.GeneratedTrees, t => t.FilePath.EndsWith("Res2Net50W14S8.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void WithIlgpuTheDeviceForwardIsEmittedAndCompiles()
    {
        var (result, output) = GeneratorRunner.CompileWithIlgpu(Spec("res2net50-w14-s8"));
        var device = result.GeneratedTrees.Single(t => t.FilePath.EndsWith("Res2Net50W14S8.Gpu.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains(result.GeneratedTrees, t => t.FilePath.EndsWith("Res2NetDevicePrograms.g.cs", StringComparison.Ordinal));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        // Every conv launch is an implicit GEMM specialized by a shape struct, with a CUDA and a CPU-accelerator tile.
        Assert.Contains("r.Conv<Conv3x3s1_14x56x56_To14_Sum_Relu, CudaNarrowTile, CpuTile>(", device);
        Assert.Contains("r.Conv<Conv1x1s1_112x56x56_To256_Tail98_Res_Relu, CudaWideTile, CpuTile>(", device);
        Assert.Contains("private readonly struct Conv3x3s1_14x56x56_To14_Sum_Relu : IConvShape", device);
    }

    [Fact]
    public void TileNamesAreTheRuntimesStructs()
    {
        foreach (var name in Enum.GetNames(typeof(Res2Net.Generator.Lowering.Gpu.GpuTile)))
        {
            var type = typeof(Res2Net.Gpu.Kernels.ITile).Assembly.GetType("Res2Net.Gpu.Kernels." + name);
            Assert.True(type != null && typeof(Res2Net.Gpu.Kernels.ITile).IsAssignableFrom(type), $"{name} is not an ITile in Res2Net.Gpu.Kernels");
        }
    }
}
