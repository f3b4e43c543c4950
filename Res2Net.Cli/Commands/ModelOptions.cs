using System.CommandLine;
using Res2Net.Models;

namespace Res2Net.Cli.Commands;

/// <summary>
/// The options that name what to run, shared by the commands: <c>--model</c>, a network by mmpretrain name (or
/// class name), and <c>--checkpoint</c>, its weights.
/// </summary>
internal static class ModelOptions
{
    public static Option<string> Model() => new("--model", "-m")
    {
        HelpName = "NAME",
        Description = "Network to run, by mmpretrain name: " + string.Join(", ", Res2NetModels.All.Select(m => m.Name)) + ".",
        Required = true,
    };

    /// <summary>How help names the value of <c>--checkpoint</c>: a file or a URL (see <see cref="CheckpointLocator"/>).</summary>
    public const string CheckpointHelpName = "FILE|URL";

    public static Option<FileInfo?> Checkpoint() => new("--checkpoint", "-c")
    {
        HelpName = CheckpointHelpName,
        Description = "Checkpoint file: mmpretrain's .pth, the original Res2Net release's .pth, a bare state dict, or safetensors " +
                      "(format and key layout are detected); or its http(s) URL, fetched once into the cache like the official ones " +
                      "(sha256 checked when the file name carries a prefix). Default: the model's official checkpoint, downloaded once into the cache.",
    };

    /// <summary><c>--device</c>: where the forward runs (see <see cref="DeviceChoice"/>).</summary>
    public static Option<string> Device()
    {
        var option = new Option<string>("--device")
        {
            HelpName = "cpu|cuda|ilgpu-cpu",
            Description = "Where the forward runs: cpu (the compiled C#, default), cuda (an NVIDIA GPU through ILGPU; an error naming what was " +
                          "found if there is none), or ilgpu-cpu (the same GPU kernels on ILGPU's CPU accelerator: slow, for checking).",
            DefaultValueFactory = _ => "cpu",
        };
        // Checked here, before any work, with a message that names the option (System.CommandLine's own does not).
        option.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>();
            if (value is not ("cpu" or "cuda" or "ilgpu-cpu")) result.AddError($"--device {value}: expected cpu, cuda or ilgpu-cpu.");
        });
        return option;
    }
}
