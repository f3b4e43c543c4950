using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Generator;

namespace Res2Net.Tests.Forward;

/// <summary>
/// Specs compiled the way a consumer project's build compiles them (the generator in-process, then the C#
/// compiler), into an assembly kept in memory and loaded into a collectible <see cref="AssemblyLoadContext"/>,
/// which <see cref="Dispose"/> unloads. The specs share one compilation: each compilation first pays a few seconds
/// (reading the framework's references, warming up the binder), and the generated code is built as Release, as a
/// consumer's shipped build compiles it.
/// </summary>
internal sealed class GeneratedNetworks : IDisposable
{
    private const string Namespace = "Res2Net.Tests.Generated";

    private readonly AssemblyLoadContext _context = new("generated networks", isCollectible: true);
    private readonly Assembly _assembly;

    /// <param name="specs">The specs' JSON texts, each with its <c>class_name</c>.</param>
    /// <param name="withIlgpu">Compile with ILGPU and Res2Net.Gpu referenced, so that each network also gets its device forward (<see cref="CreateDeviceProgram"/>).</param>
    public GeneratedNetworks(IReadOnlyList<string> specs, bool withIlgpu = false)
    {
        var files = specs.Select((json, i) => ($"/specs/spec{i}.json", json)).ToArray();
        var (result, compilation) = withIlgpu ? GeneratorRunner.CompileWithIlgpu(Namespace, files) : GeneratorRunner.Compile(Namespace, files);
        if (result.Diagnostics.Length > 0)
            throw new InvalidOperationException("the generator refused a spec:\n" + string.Join("\n", result.Diagnostics));

        using var image = new MemoryStream();
        var emitted = compilation.WithOptions(compilation.Options.WithOptimizationLevel(OptimizationLevel.Release)).Emit(image);
        if (!emitted.Success)
        {
            var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10);
            throw new InvalidOperationException("the generated code does not compile:\n" + string.Join("\n", errors));
        }
        image.Position = 0;
        _assembly = _context.LoadFromStream(image);
    }

    /// <summary>A new instance of the generated class <paramref name="className"/>, with no weights yet.</summary>
    public CompiledNetwork Create(string className)
    {
        var type = _assembly.GetType($"{Namespace}.{className}", throwOnError: true)!;
        return (CompiledNetwork)Activator.CreateInstance(type)!;
    }

    /// <summary>The device forward generated for <paramref name="className"/> (compiled <c>withIlgpu</c> only).</summary>
    public Res2Net.Gpu.DeviceProgram CreateDeviceProgram(string className)
    {
        var type = _assembly.GetType($"{Namespace}.{className}Gpu", throwOnError: true)!;
        return (Res2Net.Gpu.DeviceProgram)Activator.CreateInstance(type)!;
    }

    public void Dispose() => _context.Unload();
}
