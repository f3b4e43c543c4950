using System.Runtime.CompilerServices;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// The PyTorch-written checkpoints in Checkpoints/Samples (make_layouts.py). They are read where they lie in the
/// source tree, so they need no copy step in the project file.
/// </summary>
internal static class Samples
{
    public static string Path(string name)
    {
        string direct = System.IO.Path.Combine(Directory(), name);
        if (!File.Exists(direct)) throw new FileNotFoundException($"sample checkpoint {direct} is missing; run make_layouts.py", direct);
        return direct;
    }

    private static string Directory([CallerFilePath] string thisFile = "")
    {
        string beside = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(thisFile) ?? ".", "Samples");
        if (System.IO.Directory.Exists(beside)) return beside;
        // A build with mapped source paths: walk up from the test assembly to the repository.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "Res2Net.Tests", "Checkpoints", "Samples");
            if (System.IO.Directory.Exists(candidate)) return candidate;
        }
        return beside;
    }
}
