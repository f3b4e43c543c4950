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
    private const string DefaultNamespace = "Res2Net.Tests.Generated";

    private readonly AssemblyLoadContext _context = new("generated networks", isCollectible: true);
    private readonly Assembly _assembly;
    private readonly string _namespace;

    /// <param name="specs">The specs' JSON texts, each with its <c>class_name</c>.</param>
    /// <param name="withIlgpu">Compile with ILGPU and Res2Net.Gpu referenced, so that each network also gets its device forward (<see cref="CreateDeviceProgram"/>).</param>
    public GeneratedNetworks(IReadOnlyList<string> specs, bool withIlgpu = false)
        : this(specs.Select((json, i) => ($"/specs/spec{i}.json", json)).ToArray(), DefaultNamespace, withIlgpu)
    {
    }

    /// <param name="files">The specs, each as its path (what diagnostics name) and JSON text.</param>
    /// <param name="ns">The generated classes' namespace, so that they do not meet another compilation's.</param>
    /// <param name="withIlgpu">As above.</param>
    public GeneratedNetworks((string Path, string Json)[] files, string ns, bool withIlgpu = false)
    {
        _namespace = ns;
        var (result, compilation) = withIlgpu ? GeneratorRunner.CompileWithIlgpu(ns, files) : GeneratorRunner.Compile(ns, files);
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
        var type = _assembly.GetType($"{_namespace}.{className}", throwOnError: true)!;
        return (CompiledNetwork)Activator.CreateInstance(type)!;
    }

    /// <summary>A new instance of the network whose spec is named <paramref name="name"/>, through the generated registry (<c>Res2NetModels.Create</c>).</summary>
    public CompiledNetwork CreateByName(string name)
    {
        var create = _assembly.GetType($"{_namespace}.Res2NetModels", throwOnError: true)!.GetMethod("Create", BindingFlags.Public | BindingFlags.Static)!;
        return (CompiledNetwork)create.Invoke(null, [name])!;
    }

    /// <summary>The device forward generated for <paramref name="className"/> (compiled <c>withIlgpu</c> only).</summary>
    public Res2Net.Gpu.DeviceProgram CreateDeviceProgram(string className)
    {
        var type = _assembly.GetType($"{_namespace}.{className}Gpu", throwOnError: true)!;
        return (Res2Net.Gpu.DeviceProgram)Activator.CreateInstance(type)!;
    }

    public void Dispose() => _context.Unload();
}
