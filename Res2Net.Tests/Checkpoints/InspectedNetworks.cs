using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Cli;
using Res2Net.Tests.Generator;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// The specs <c>res2net inspect --spec</c> writes for every checkpoint of <c>Fixtures/inspect/</c>, compiled together by
/// the generator (driven in-process, as a consumer's build would) into one assembly that is loaded here: made once
/// for all tests that use it, as compiling is most of their cost.
/// </summary>
public sealed class InspectedNetworks : IDisposable
{
    /// <summary>The namespace of the generated classes (so that they do not meet the test project's own).</summary>
    private const string Namespace = "Res2Net.Tests.Inspected";

    private readonly AssemblyLoadContext _context = new("inspected-networks", isCollectible: true);
    private readonly Func<string, CompiledNetwork> _create;

    public InspectedNetworks()
    {
        Folder = TempFolders.Create("res2net-inspected-").FullName;
        var specs = new List<(string Path, string Json)>();
        foreach (var c in InspectFixtures.Cases)
        {
            string spec = Path.Combine(Folder, c.Name + ".json");
            var (code, _, err) = CliTests.Run("inspect", c.Path, "--spec", spec, "--name", c.Name, "--input-size", $"{c.InputHeight}", $"{c.InputWidth}");
            if (code != 0) throw new InvalidOperationException($"inspect {c.File} failed ({code}): {err}");
            Specs[c.Name] = File.ReadAllText(spec);
            specs.Add((spec, Specs[c.Name]));
        }

        var (result, compilation) = GeneratorRunner.Compile(Namespace, specs.ToArray());
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0) throw new InvalidOperationException("the generator refused an inspected spec:\n" + string.Join("\n", errors.Take(10)));
        // Emit reports the compiler's errors itself; asking for them first would bind every method twice (seconds here).
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        if (!emitted.Success)
        {
            throw new InvalidOperationException("the inspected specs do not compile:\n" +
                string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        }
        image.Position = 0;
        // The generated code's reference to Res2Net.Runtime resolves to the runtime already loaded (the default context).
        var assembly = _context.LoadFromStream(image);
        var create = assembly.GetType(Namespace + ".Res2NetModels", throwOnError: true)!.GetMethod("Create", BindingFlags.Public | BindingFlags.Static)!;
        _create = create.CreateDelegate<Func<string, CompiledNetwork>>();
    }

    /// <summary>Where the specs were written.</summary>
    public string Folder { get; }

    /// <summary>Each case's spec as inspect wrote it, by the case's name.</summary>
    public Dictionary<string, string> Specs { get; } = new();

    /// <summary>A new, unloaded instance of the network compiled from the spec of case <paramref name="name"/>.</summary>
    public CompiledNetwork Create(string name) => _create(name);

    public void Dispose() => _context.Unload();
}
