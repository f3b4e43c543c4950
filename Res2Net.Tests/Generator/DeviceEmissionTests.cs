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

    /// <summary>
    /// A spec's name reaches the device files as a C# string literal, escaped as in the CPU files: a name with quotes,
    /// backslashes and comment markers compiles, and the constants read back equal it.
    /// </summary>
    [Fact]
    public void AHostileNameReachesTheDeviceFilesAsALiteral()
    {
        const string Name = "tiny \"x\" \\ */ /* {0} $";
        string json = File.ReadAllText(GeneratorRunner.RepoFile("Res2Net.Tests", "Networks", "tiny-plain.json"))
            .Replace("\"name\": \"tiny-plain\"", "\"name\": " + System.Text.Json.JsonSerializer.Serialize(Name) + ", \"class_name\": \"Hostile\"");
        var (result, output) = GeneratorRunner.CompileWithIlgpu(("networks/hostile.json", json));
        Assert.Empty(result.Diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS1591"));
        foreach (var file in new[] { "Hostile.Gpu.g.cs", "Res2NetDevicePrograms.g.cs" })
        {
            var tree = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(file, StringComparison.Ordinal));
            var model = output.GetSemanticModel(tree);
            var strings = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax>()
                .Select(l => model.GetConstantValue(l).Value as string).Where(v => v != null).ToList();
            Assert.Contains(Name, strings);
        }
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
